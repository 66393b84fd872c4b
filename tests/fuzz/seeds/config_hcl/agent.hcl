datacenter = "east-aws"
data_dir = "/opt/consul"
server = true
bootstrap_expect = 3
retry_join = ["10.0.0.1", "10.0.0.2",]
ports {
  http = 8501
  dns = 8601
}
node_meta = { rack = "r1" }
