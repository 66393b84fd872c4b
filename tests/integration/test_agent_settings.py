"""No flag or config key is silently accepted (issue 13): each is implemented,
accepted with a start-up warning naming it as without effect, or refused with
the reason. The classification is the agent's own table (`cairn agent
-list-settings`); these tests check it covers every key the config decoder
reads and that the warning and refusals really happen."""
import json
import re
import socket
import subprocess

from harness import ROOT, Http, binary, free_port, wait_for


def settings_table():
    p = subprocess.run([binary("cairn"), "agent", "-list-settings"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def normalized(name):
    return name.replace("_", "").replace("-", "").lower()


def decoder_keys():
    """Every key the agent config decoders compare against (config.cc and the
    block decoders beside it: http_limits.cc, dns_limits.cc)."""
    keys = set()
    for name in ("config.cc", "http_limits.cc", "dns_limits.cc"):
        src = (ROOT / "agent" / "config" / name).read_text()
        keys |= set(re.findall(r'\b[a-z]*k == "([a-z0-9]+)"', src))
    return keys


def test_every_flag_and_key_is_in_exactly_one_class():
    table = settings_table()
    classes = {"implemented", "no_effect", "rejected"}
    for kind in ("flags", "keys"):
        names = [s["name"] for s in table[kind]]
        dupes = {n for n in names if names.count(n) > 1}
        assert not dupes, f"{kind} classified more than once: {dupes}"
        for s in table[kind]:
            assert s["class"] in classes, s
            if s["class"] != "implemented":
                assert s["example"], f"{s['name']}: no example to show its warning or refusal"
    leaves = {normalized(k["name"].split(".")[-1]) for k in table["keys"]}
    unclassified = decoder_keys() - leaves
    assert not unclassified, f"config keys the decoder reads but the table does not classify: " \
                             f"{sorted(unclassified)} (add them to agent/config/settings_support.cc)"
    # The parser's flags are the table's: an unknown flag is refused.
    p = subprocess.run([binary("cairn"), "agent", "-surely-not-a-flag"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 1 and "flag provided but not defined" in p.stderr


def agent_args(tmp_path, *extra):
    return [binary("cairn"), "agent", "-dev", "-node", "settings",
            "-http-port", str(free_port()), "-dns-port", str(free_port()),
            "-serf-lan-port", str(free_port()), "-serf-wan-port", str(free_port()), *extra]


def test_each_no_effect_setting_is_named_in_one_startup_warning(daemons, tmp_path):
    table = settings_table()
    conf = tmp_path / "conf"
    conf.mkdir()
    expected = []
    for i, k in enumerate(s for s in table["keys"] if s["class"] == "no_effect"):
        (conf / f"{i:02d}.yaml").write_text(k["example"] + "\n")
        expected.append(k["name"])
    flags = []
    for i, f in enumerate(s for s in table["flags"] if s["class"] == "no_effect"):
        # A value any of them takes (ports, sizes, paths): distinct, so no two ports clash.
        flags.append("-" + f["name"] + (f"={20000 + i}" if f["takes_value"] else ""))
        expected.append(f["example"])  # a flag's example is the name the warning gives
    flags.append("-disable-host-node-id=false")
    expected.append("disable_host_node_id")
    args = agent_args(tmp_path, "-config-dir", str(conf), *flags)
    port = int(args[args.index("-http-port") + 1])
    d = daemons(args, name="noeffect")
    http = Http("127.0.0.1", port)
    wait_for(lambda: d.alive() and http.get("/v1/status/leader", timeout=1).status == 200, 10,
             "the agent with every no-effect setting to start")
    warnings = [l for l in d.output().splitlines() if "without effect" in l]
    assert len(warnings) == 1, d.output()
    named = re.search(r"settings=(.*)$", warnings[0]).group(1).strip('"').split(", ")
    missing = [n for n in expected if n not in named]
    assert not missing, f"not named in the warning: {missing}\n{warnings[0]}"
    http.close()


def test_plain_dev_agent_has_no_warning_and_advertises_no_ui(daemons, tmp_path):
    args = agent_args(tmp_path)
    port = int(args[args.index("-http-port") + 1])
    d = daemons(args, name="plain")
    http = Http("127.0.0.1", port)
    wait_for(lambda: d.alive() and http.get("/v1/status/leader", timeout=1).status == 200, 10,
             "the agent to start")
    assert "without effect" not in d.output()
    assert "UI:" not in d.output() and "/ui/" not in d.output()
    r = http.get("/")
    assert r.status == 200 and "Location" not in r.headers, r
    assert r.text.startswith("Consul Agent: UI disabled")
    http.close()


def test_ui_flag_is_warned_and_never_redirects(daemons, tmp_path):
    args = agent_args(tmp_path, "-ui")
    port = int(args[args.index("-http-port") + 1])
    d = daemons(args, name="ui")
    http = Http("127.0.0.1", port)
    wait_for(lambda: d.alive() and http.get("/v1/status/leader", timeout=1).status == 200, 10,
             "the agent to start")
    r = http.get("/")
    assert r.status == 200 and "Location" not in r.headers, r
    assert "UI:" not in d.output()
    assert re.search(r"without effect.*settings=\"?ui\b", d.output()), d.output()
    http.close()


def test_each_rejected_setting_refuses_to_start_and_validate_says_why(tmp_path):
    table = settings_table()
    rejected = [s for s in table["keys"] if s["class"] == "rejected"]
    assert any(s["name"] == "acl.enabled" for s in rejected)
    for i, k in enumerate(rejected):
        f = tmp_path / f"rejected{i}.yaml"
        f.write_text(k["example"] + "\n")
        p = subprocess.run(agent_args(tmp_path, "-config-file", str(f)), capture_output=True,
                           text=True, timeout=20)
        leaf = k["name"].split(".")[-1]
        assert p.returncode != 0, f"{k['name']}: the agent started\n{p.stdout}"
        err = p.stderr.strip().splitlines()
        assert len(err) == 1 and leaf in err[0], f"{k['name']}: {p.stderr}"
        assert k["why"] and k["why"] in err[0], err[0]  # the table's reason, word for word
        v = subprocess.run([binary("cairn"), "validate", str(f)], capture_output=True, text=True,
                           timeout=10)
        assert v.returncode == 1 and leaf in v.stderr, f"{k['name']}: {v.stderr}"


def test_each_rejected_flag_refuses_to_start_with_its_reason(tmp_path):
    table = settings_table()
    rejected = [s for s in table["flags"] if s["class"] == "rejected"]
    assert rejected
    for f in rejected:
        p = subprocess.run(agent_args(tmp_path, f["example"]), capture_output=True, text=True,
                           timeout=20)
        assert p.returncode == 1, f"{f['name']}: the agent started\n{p.stdout}"
        assert f"-{f['name']}: {f['why']}" in p.stderr, p.stderr


def test_acl_default_deny_never_runs_open(tmp_path):
    f = tmp_path / "acl.json"
    f.write_text('{"acl": {"enabled": true, "default_policy": "deny"}}')
    p = subprocess.run(agent_args(tmp_path, "-config-file", str(f)), capture_output=True,
                       text=True, timeout=20)
    assert p.returncode == 1
    assert "acl.enabled: ACLs are not built yet" in p.stderr


def test_validate_names_no_effect_settings(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("ui_config:\n  enabled: true\nrejoin_after_leave: true\n")
    v = subprocess.run([binary("cairn"), "validate", str(f)], capture_output=True, text=True,
                       timeout=10)
    assert v.returncode == 0
    assert "without effect in cairn: rejoin_after_leave, ui" in v.stderr, v.stderr


def test_config_format_forces_the_format(daemons, tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "web.conf").write_text('{"service": {"name": "web", "port": 80}}')
    args = agent_args(tmp_path, "-config-dir", str(conf), "-config-format", "json")
    port = int(args[args.index("-http-port") + 1])
    d = daemons(args, name="fmt")
    http = Http("127.0.0.1", port)
    wait_for(lambda: d.alive() and http.get("/v1/status/leader", timeout=1).status == 200, 10,
             "the agent to start")
    assert "web" in http.get("/v1/agent/services").json()
    http.close()
    # JSON forced: YAML is an error, naming the file.
    (conf / "web.conf").write_text("service:\n  name: web\n")
    p = subprocess.run(agent_args(tmp_path, "-config-dir", str(conf), "-config-format=json"),
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 1 and "web.conf" in p.stderr
    # HCL forced: YAML is an error too (HCL files: test_config_hcl.py).
    p = subprocess.run([binary("cairn"), "validate", "-config-format", "hcl", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and "web.conf:1: syntax error" in p.stderr, p.stderr
    p = subprocess.run([binary("cairn"), "validate", "-config-format", "toml", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and "must be json, yaml or hcl" in p.stderr


def test_retry_interval_caps_the_wait_between_joins(daemons, tmp_path):
    dead = free_port()  # nothing gossips there
    args = agent_args(tmp_path, "-retry-join", f"127.0.0.1:{dead}", "-retry-interval", "1s",
                      "-log-level", "debug")
    d = daemons(args, name="retry")

    def waits():
        return [int(m) for m in re.findall(r"retry-join failed.*in_ms=(\d+)", d.output())]
    wait_for(lambda: len(waits()) >= 3, 20, "three failed retry-join attempts")
    assert max(waits()) <= 1000, waits()
    p = subprocess.run(agent_args(tmp_path, "-retry-interval", "soon"), capture_output=True,
                       text=True, timeout=20)
    assert p.returncode == 1 and "-retry-interval" in p.stderr


def test_agent_self_has_coord_and_counts_script_checks(daemons, tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "checks.yaml").write_text(
        "checks:\n"
        "  - {id: s1, name: s1, args: [/bin/true], interval: 10s}\n"
        "  - {id: s2, name: s2, args: [/bin/true], interval: 10s}\n"
        "  - {id: t1, name: t1, ttl: 30s}\n")
    args = agent_args(tmp_path, "-config-dir", str(conf), "-enable-script-checks")
    port = int(args[args.index("-http-port") + 1])
    daemons(args, name="self")
    http = Http("127.0.0.1", port)
    self_ = wait_for(lambda: http.get("/v1/agent/self").json(), 10, "/v1/agent/self")
    coord = self_["Coord"]
    assert coord is not None and len(coord["Vec"]) == 8, coord
    assert {"Error", "Adjustment", "Height"} <= coord.keys()
    assert self_["Stats"]["agent"]["check_monitors"] == "2"
    assert self_["Stats"]["agent"]["check_ttls"] == "1"
    http.close()


def test_cli_refuses_tls_settings_rather_than_plain_text(make_agent):
    a = make_agent()  # never started: a refused request must not even try to connect
    for args, env in ((("members", "-ca-file", "/etc/ca.pem"), {}),
                      (("kv", "get", "-client-cert=/c.pem", "k"), {}),
                      (("members",), {"CONSUL_CACERT": "/etc/ca.pem"}),
                      (("members",), {"CONSUL_HTTP_SSL": "true"}),
                      (("members", "-http-addr", "https://127.0.0.1:8501"), {})):
        r = a.cli(*args, env=env)
        assert r.returncode == 1, (args, env, r.stdout)
        assert "TLS for the CLI arrives with the security issue" in r.stderr, (args, r.stderr)


def test_cli_token_file_is_read(agent, tmp_path):
    tok = tmp_path / "token"
    tok.write_text("secret-token\n")
    r = agent.cli("members", "-token-file", str(tok))
    assert r.returncode == 0, r.stderr
    r = agent.cli("members", "-token-file", str(tmp_path / "missing"))
    assert r.returncode == 1 and "-token-file" in r.stderr


def test_status_finds_the_forwarder_from_its_config(daemons, make_agent, tmp_path):
    a = make_agent().start()
    status_port = free_port()
    # A stand-in forwarder status endpoint is enough: cairn status reads /status.
    srv = socket.socket()
    srv.bind(("127.0.0.1", status_port))
    srv.listen(4)
    import threading

    def serve():
        for _ in range(2):
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.recv(4096)
            body = b'{"healthy": true, "groups": []}'
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/json"
                      b"\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    cfg = tmp_path / "dnsfwd.yaml"
    cfg.write_text(f'listen: ["127.0.0.1:5300"]\nmetrics_addr: "127.0.0.1:{status_port}"\n')
    r = a.cli("status", "-json", "-dnsfwd-config", str(cfg))
    srv.close()
    assert r.returncode == 0, r.stderr
    fwd = json.loads(r.stdout)["Forwarder"]
    assert fwd["Address"] == f"127.0.0.1:{status_port}" and fwd["Running"] is True, fwd
    r = a.cli("status", "-dnsfwd-config", str(tmp_path / "missing.yaml"))
    assert r.returncode == 1 and "-dnsfwd-config" in r.stderr


def test_quickstart_example_web_is_healthy(daemons, tmp_path):
    """examples/services.d as README's first command starts it: web must pass
    (it had a TTL check nothing passed, so web.service.consul went NXDOMAIN)."""
    web = (ROOT / "examples/services.d/web.yaml").read_text()
    assert "tcp: 127.0.0.1:8500" in web, "the example checks the quickstart agent's HTTP port"
    conf = tmp_path / "services.d"
    conf.mkdir()
    for f in (ROOT / "examples/services.d").iterdir():
        (conf / f.name).write_text(f.read_text())
    args = agent_args(tmp_path, "-config-dir", str(conf))
    port = int(args[args.index("-http-port") + 1])
    (conf / "web.yaml").write_text(web.replace("127.0.0.1:8500", f"127.0.0.1:{port}"))
    daemons(args, name="quick")
    http = Http("127.0.0.1", port)

    def web_passing():
        r = http.get("/v1/health/service/web?passing=1", timeout=1)
        return r.status == 200 and len(r.json()) == 1
    wait_for(web_passing, 10, "the example web service to be healthy")
    http.close()


def test_the_settings_reference_in_the_docs_is_the_agents_table():
    import settings_doc
    section = settings_doc.current_section(settings_doc.DOC.read_text())
    assert section is not None, "docs/compatibility.md lost its generated settings section"
    assert section == settings_doc.render(settings_table()), \
        "docs/compatibility.md is out of date: run python3 tests/integration/settings_doc.py --write"
