# two services, one with checks
services {
  id = "red0"
  name = "redis"
  port = 6000
  checks {
    args = ["/bin/check_redis", "-p", "6000"]
    interval = "5s"
  }
}
services {
  name = "web"
  port = 80
  check {
    http = "http://localhost/health"
    interval = "10s"
    notes = <<-EOF
      See the "runbook".
      EOF
  }
}
