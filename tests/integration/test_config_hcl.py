"""HCL 1 config files (Consul's consul.hcl, web.hcl), against the real agent and CLI."""
import signal
import subprocess

from harness import binary, wait_for

AGENT_HCL = """\
# The agent's own settings, as Consul's documentation writes them.
datacenter = "east-aws"
node_meta {
  rack = "r1"
}
retry_interval = "10s"
dns_config {
  node_ttl = "5s"
}
"""

# One service with an HTTP check (against the agent itself) and a TTL check.
WEB_HCL = """\
service {
  name = "web"
  id   = "web-1"
  port = 80
  tags = ["rails", "v1"]
  meta = {
    version = "1.0"
  }
  check {
    id       = "web-http"
    name     = "leader answers"
    http     = "http://127.0.0.1:{port}/v1/status/leader"
    interval = "1s"
  }
}
"""

# Several services in one file, in both of Consul's HCL forms.
SERVICES_HCL = """\
services {
  id   = "red0"
  name = "redis"
  tags = ["primary"]
  port = 6000
  checks {
    id     = "red0-ttl"
    ttl    = "30s"
    status = "passing"
    notes  = <<EOF
Pushed by the redis sidecar.
EOF
  }
}
services {
  id   = "red1"
  name = "redis"
  tags = ["secondary"]
  port = 7000
}
"""

LIST_HCL = """\
services = [
  { name = "api", port = 9000 },
  { name = "db",  port = 5432, checks = [{ ttl = "20s" }, { ttl = "40s", name = "second" }] },
]
"""


def test_hcl_agent_config_and_service_files_register(make_agent):
    a = make_agent()
    a.write_config("consul.hcl", AGENT_HCL)
    a.write_config("web.hcl", WEB_HCL.replace("{port}", str(a.port)))
    a.write_config("redis.hcl", SERVICES_HCL)
    a.write_config("list.hcl", LIST_HCL)
    a.start()

    me = a.http.get("/v1/agent/self").json()
    assert me["Config"]["Datacenter"] == "east-aws"
    got = a.http.get("/v1/agent/services").json()
    assert set(got) == {"web-1", "red0", "red1", "api", "db"}
    assert got["web-1"]["Tags"] == ["rails", "v1"]
    assert got["web-1"]["Meta"] == {"version": "1.0"}
    assert got["red1"]["Port"] == 7000
    catalog = a.http.get("/v1/catalog/services").json()
    assert sorted(catalog["redis"]) == ["primary", "secondary"]
    node = a.http.get("/v1/catalog/node/agent").json()
    assert node["Node"]["Meta"]["rack"] == "r1"

    checks = a.http.get("/v1/agent/checks").json()
    assert {"web-http", "red0-ttl", "service:db:1", "service:db:2"} <= set(checks)
    assert checks["red0-ttl"]["Status"] == "passing"
    assert checks["red0-ttl"]["Notes"] == "Pushed by the redis sidecar.\n"
    wait_for(lambda: a.http.get("/v1/agent/checks").json()["web-http"]["Status"] == "passing",
             10, "the HTTP check from web.hcl to pass")
    healthy = a.http.get("/v1/health/service/web?passing").json()
    assert [e["Service"]["ID"] for e in healthy] == ["web-1"]


def test_hcl_reload_and_errors_name_file_and_line(make_agent):
    a = make_agent()
    a.write_config("web.hcl", WEB_HCL.replace("{port}", str(a.port)))
    a.start()
    a.write_config("list.hcl", LIST_HCL)
    r = a.cli("reload")
    assert r.returncode == 0, r.stderr
    assert set(a.http.get("/v1/agent/services").json()) == {"web-1", "api", "db"}

    # A broken HCL file: reload refused with file:line, the running set stays.
    a.write_config("broken.hcl", 'service {\n  name = "x"\n  port = eighty\n}\n')
    r = a.http.put("/v1/agent/reload")
    assert r.status == 500 and "broken.hcl:3: syntax error: unquoted value eighty" in r.text, r.text
    a.daemon.signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in a.daemon.output(), 5, "the SIGHUP reload to be refused")
    assert set(a.http.get("/v1/agent/services").json()) == {"web-1", "api", "db"}

    # The decoder's errors are the same as for YAML files.
    (a.config_dir / "broken.hcl").write_text('service {\n  name = "x"\n  prot = 80\n}\n')
    r = a.http.put("/v1/agent/reload")
    assert r.status == 500 and "broken.hcl:3: service.prot: unknown field" in r.text, r.text


def test_hcl_validate_config_format_and_services_register(make_agent, tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "consul.hcl").write_text(AGENT_HCL)
    (conf / "redis.hcl").write_text(SERVICES_HCL)
    p = subprocess.run([binary("cairn"), "validate", str(conf)], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 0 and "Configuration is valid!" in p.stdout, p.stderr
    bad = conf / "z.hcl"
    bad.write_text('datacenter = "a"\n\ndatacenter = "b"\n')
    p = subprocess.run([binary("cairn"), "validate", str(conf)], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 1
    assert f'{bad}:3: duplicate key "datacenter" (first at line 1)' in p.stderr, p.stderr
    bad.unlink()

    # -config-format hcl reads files of any extension as HCL.
    odd = tmp_path / "agent.conf"
    odd.write_text(LIST_HCL)
    a = make_agent(extra_args=("-config-file", str(odd), "-config-format", "hcl"))
    a.start()
    assert {"api", "db"} <= set(a.http.get("/v1/agent/services").json())

    # `cairn services register web.hcl`, as `consul services register web.hcl`.
    web = tmp_path / "web.hcl"
    web.write_text(WEB_HCL.replace("{port}", str(a.port)))
    r = a.cli("services", "register", web)
    assert r.returncode == 0, r.stderr
    assert "web-1" in a.http.get("/v1/agent/services").json()
