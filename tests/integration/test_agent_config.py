"""Service definitions from files, reload, restarts and the CLI, against the real agent."""
import json
import signal
import subprocess

from harness import binary, wait_for

WEB_YAML = """\
service:
  name: web
  id: web-1
  port: 8080
  tags: [v1]
  check:
    id: web-ttl
    ttl: 30s
    status: passing
"""

TWO_YAML = """\
services:
  - name: api
    port: 9000
    meta: {team: core}
  - name: db
    port: 5432
"""

CONSUL_JSON = json.dumps({"service": {"name": "legacy", "port": 7000,
                                      "checks": [{"ttl": "20s"}, {"ttl": "40s", "name": "second"}]}})


def services(agent):
    return agent.http.get("/v1/agent/services").json()


def test_yaml_and_consul_json_definitions_load(make_agent):
    a = make_agent()
    a.write_config("web.yaml", WEB_YAML)
    a.write_config("two.yml", TWO_YAML)
    a.write_config("legacy.json", CONSUL_JSON)
    a.start()
    got = services(a)
    assert set(got) == {"web-1", "api", "db", "legacy"}
    assert got["api"]["Meta"] == {"team": "core"}
    catalog = a.http.get("/v1/catalog/services").json()
    assert catalog["web"] == ["v1"]
    checks = a.http.get("/v1/agent/checks").json()
    # Consul's generated IDs: service:<id>:<n> when a service has several checks.
    assert {"service:legacy:1", "service:legacy:2", "web-ttl"} <= set(checks)
    assert checks["web-ttl"]["Status"] == "passing"


def test_broken_yaml_fails_startup_naming_file_and_line(make_agent):
    a = make_agent()
    a.write_config("web.yaml", WEB_YAML)
    a.write_config("bad.yaml", "service:\n  name: bad\n  port: [1,\n")
    a.start(wait=False)
    code = a.daemon.proc.wait(timeout=20)
    assert code != 0
    out = a.daemon.output()
    assert "bad.yaml:" in out, out


def test_unknown_key_and_wrong_type_are_errors_with_file_line_key(tmp_path):
    bad = tmp_path / "svc.yaml"
    bad.write_text("service:\n  name: web\n  prot: 80\n")
    p = subprocess.run([binary("cairn"), "validate", str(bad)], capture_output=True, text=True)
    assert p.returncode == 1
    assert f"{bad}:3: service.prot: unknown field" in p.stderr
    bad.write_text("service:\n  name: web\n  port: eighty\n")
    p = subprocess.run([binary("cairn"), "validate", str(bad)], capture_output=True, text=True)
    assert p.returncode == 1 and f"{bad}:3: service.port: expected an integer" in p.stderr
    good = tmp_path / "ok"
    good.mkdir()
    (good / "web.yaml").write_text(WEB_YAML)
    p = subprocess.run([binary("cairn"), "validate", str(good)], capture_output=True, text=True)
    assert p.returncode == 0 and "Configuration is valid!" in p.stdout


def test_reload_applies_difference_and_refuses_broken_files(make_agent):
    a = make_agent()
    a.write_config("web.yaml", WEB_YAML)
    a.start()
    assert a.http.put("/v1/agent/service/register", {"Name": "from-api", "Port": 1}).status == 200
    web_index = a.http.get("/v1/catalog/service/web").headers["x-consul-index"]

    # Add a file: only the new service appears, web is untouched (same index).
    a.write_config("two.yaml", TWO_YAML)
    r = a.cli("reload")
    assert r.returncode == 0 and "reload triggered" in r.stdout
    assert set(services(a)) == {"web-1", "api", "db", "from-api"}
    assert a.http.get("/v1/catalog/service/web").headers["x-consul-index"] == web_index

    # A broken file: reload is refused with file:line, the running set stays.
    a.write_config("broken.yaml", "services:\n  - name: x\n    port: nope\n")
    r = a.http.put("/v1/agent/reload")
    assert r.status == 500 and "broken.yaml:3" in r.text, r.text
    assert set(services(a)) == {"web-1", "api", "db", "from-api"}

    # SIGHUP with the broken file: same, and the agent keeps running.
    a.daemon.signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in a.daemon.output(), 5, "the SIGHUP reload to be refused")
    assert set(services(a)) == {"web-1", "api", "db", "from-api"}

    # Fix and remove a file: its services go, API registrations stay.
    (a.config_dir / "broken.yaml").unlink()
    (a.config_dir / "two.yaml").unlink()
    a.daemon.signal(signal.SIGHUP)
    wait_for(lambda: set(services(a)) == {"web-1", "from-api"}, 5, "reload to drop api and db")


def test_kill9_after_registration_keeps_services_and_check_state(make_agent):
    a = make_agent()
    a.start()
    body = {"ID": "pay-1", "Name": "payments", "Port": 7443, "Tags": ["blue"],
            "Checks": [{"CheckID": "pay-ttl", "TTL": "5m"}, {"CheckID": "pay-ttl2", "TTL": "5m"}]}
    assert a.http.put("/v1/agent/service/register", body).status == 200
    assert a.http.put("/v1/agent/check/pass/pay-ttl?note=ok").status == 200
    assert a.http.put("/v1/agent/check/register", {"Name": "disk", "TTL": "5m"}).status == 200
    a.kill9()
    a.start()
    got = services(a)
    assert got["pay-1"]["Tags"] == ["blue"] and got["pay-1"]["Port"] == 7443
    checks = a.http.get("/v1/agent/checks").json()
    assert checks["pay-ttl"]["Status"] == "passing" and checks["pay-ttl"]["Output"] == "ok"
    assert checks["pay-ttl2"]["Status"] == "critical"
    assert "disk" in checks
    # And the catalog has them again after the restart.
    assert a.http.get("/v1/health/service/payments").json()[0]["Service"]["ID"] == "pay-1"
    # Deregistration is durable too.
    assert a.http.put("/v1/agent/service/deregister/pay-1").status == 200
    a.kill9()
    a.start()
    assert "pay-1" not in services(a)


def test_node_id_is_kept_across_restarts(make_agent):
    a = make_agent()
    a.start()
    first = a.http.get("/v1/agent/self").json()["Config"]["NodeID"]
    a.stop()
    a.start()
    assert a.http.get("/v1/agent/self").json()["Config"]["NodeID"] == first


def test_sigterm_is_graceful(make_agent):
    a = make_agent()
    a.start()
    assert a.stop() == 0
    assert "shutting down" in a.daemon.log_path.read_text()


def test_cli_status_catalog_services_members(make_agent, tmp_path):
    a = make_agent()
    a.write_config("web.yaml", WEB_YAML)
    a.start()
    r = a.cli("status")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "web-1" in r.stdout and "passing" in r.stdout
    r = a.cli("status", "-json")
    status = json.loads(r.stdout)
    assert status["Agent"]["Node"] == "agent" and status["Critical"] is False

    svc = tmp_path / "crit.yaml"
    svc.write_text("service:\n  name: crit\n  check:\n    ttl: 60s\n")
    r = a.cli("services", "register", svc)
    assert r.returncode == 0 and "Registered service: crit" in r.stdout
    r = a.cli("status")
    assert r.returncode == 2, r.stdout  # a critical check
    assert json.loads(a.cli("status", "-json").stdout)["Critical"] is True
    r = a.cli("services", "deregister", "crit")
    assert r.returncode == 0 and "Deregistered service: crit" in r.stdout

    r = a.cli("catalog", "services", "-tags")
    assert "web" in r.stdout and "v1" in r.stdout and "consul" in r.stdout
    assert "agent" in a.cli("catalog", "nodes").stdout
    assert a.cli("catalog", "datacenters").stdout.strip() == "dc1"
    r = a.cli("members")
    assert "agent" in r.stdout and "alive" in r.stdout and "server" in r.stdout
    assert "cairn v" in a.cli("version").stdout
    assert "agent:" in a.cli("info").stdout

    r = a.cli("maint", "-enable", "-service", "web-1", "-reason", "upgrade")
    assert r.returncode == 0 and "enabled" in r.stdout
    assert a.http.get("/v1/health/service/web?passing").json() == []
    assert a.cli("maint", "-disable", "-service", "web-1").returncode == 0


def test_cli_unreachable_agent_exit_1(make_agent):
    a = make_agent()  # never started
    r = a.cli("status")
    assert r.returncode == 1 and "unreachable" in r.stderr
    r = a.cli("catalog", "services")
    assert r.returncode == 1


def test_bad_flags_are_clear_errors(tmp_path):
    p = subprocess.run([binary("cairn"), "agent", "-bogus"], capture_output=True, text=True)
    assert p.returncode == 1 and "flag provided but not defined: -bogus" in p.stderr
    p = subprocess.run([binary("cairn"), "agent", "-dev", "-http-port", "x"], capture_output=True,
                       text=True)
    assert p.returncode == 1 and "-http-port" in p.stderr
    p = subprocess.run([binary("cairn"), "agent"], capture_output=True, text=True)
    assert p.returncode == 1 and "data_dir" in p.stderr
    p = subprocess.run([binary("cairn"), "frobnicate"], capture_output=True, text=True)
    assert p.returncode == 1 and "Unknown command" in p.stderr
