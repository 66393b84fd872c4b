"""How checks behave over time: thresholds, TTL expiry, alias checks,
maintenance, deregister_critical_service_after and restarts."""
from check_api import checks
from check_targets import HttpTarget, TcpListener, closed_port
from harness import wait_for


def put(agent, path, body=None):
    r = agent.http.put(path, body)
    assert r.status == 200, (path, r)
    return r


def wait_check(agent, check_id, status, timeout=6, output=None):
    def ok():
        c = checks(agent).get(check_id)
        return (c and c["Status"] == status and (output is None or c["Output"] == output)
                and c)
    return wait_for(ok, timeout, f"{check_id} to be {status}"
                    + (f" with output {output!r}" if output is not None else ""))


def passing_ids(agent, service):
    return [e["Service"]["ID"]
            for e in agent.http.get(f"/v1/health/service/{service}?passing").json()]


def test_thresholds_hold_results_back(agent):
    target = HttpTarget()
    try:
        put(agent, "/v1/agent/check/register", {
            "Name": "th", "HTTP": target.url(), "Interval": "1s", "SuccessBeforePassing": 2,
            "FailuresBeforeWarning": 1, "FailuresBeforeCritical": 3})
        # Counters start at their thresholds: the first result applies at once (Consul).
        wait_check(agent, "th", "passing")

        def after_next_request():
            n = len(target.requests)
            wait_for(lambda: len(target.requests) > n, 3, "the next run")
            return len(target.requests)

        base = after_next_request()
        target.mode = 500
        wait_check(agent, "th", "warning")
        assert len(target.requests) - base == 1  # failures_before_warning: 1
        wait_check(agent, "th", "critical")
        assert len(target.requests) - base == 3  # failures_before_critical: 3
        base = after_next_request()
        target.mode = 200
        wait_check(agent, "th", "passing")
        assert len(target.requests) - base == 2  # success_before_passing: 2
    finally:
        target.close()


def test_ttl_expiry_keeps_the_last_output(agent):
    put(agent, "/v1/agent/check/register", {"Name": "job", "TTL": "1s"})
    put(agent, "/v1/agent/check/pass/job?note=fine")
    wait_check(agent, "job", "passing", output="fine")
    c = wait_check(agent, "job", "critical")
    assert c["Output"] == "TTL expired (last output before timeout follows): fine"
    put(agent, "/v1/agent/check/pass/job")
    wait_check(agent, "job", "passing", output="")


def test_alias_mirrors_a_service_and_a_node(agent):
    put(agent, "/v1/agent/service/register",
        {"Name": "web", "ID": "web-1", "Check": {"CheckID": "web-ttl", "Name": "web ttl",
                                                 "TTL": "60s"}})
    put(agent, "/v1/agent/service/register",
        {"Name": "web-proxy", "ID": "web-proxy-1",
         "Checks": [{"CheckID": "proxy-alias", "AliasService": "web-1"},
                    {"CheckID": "node-alias", "AliasNode": "agent"}]})
    c = wait_check(agent, "proxy-alias", "critical")
    assert c["Output"] == 'Aliased check "web ttl" failing: '
    assert c["Type"] == "alias"
    wait_check(agent, "node-alias", "passing", output="All checks passing.")

    put(agent, "/v1/agent/check/pass/web-ttl?note=up")
    wait_check(agent, "proxy-alias", "passing", output="All checks passing.")
    wait_for(lambda: passing_ids(agent, "web-proxy") == ["web-proxy-1"], 5, "proxy passing")
    put(agent, "/v1/agent/check/warn/web-ttl?note=slow")
    wait_check(agent, "proxy-alias", "warning", output='Aliased check "web ttl" failing: slow')

    # Service maintenance is a critical check of web-1: the alias follows it.
    put(agent, "/v1/agent/service/maintenance/web-1?enable=true&reason=deploy")
    wait_check(agent, "proxy-alias", "critical",
               output='Aliased check "Service Maintenance Mode" failing: ')
    assert passing_ids(agent, "web") == [] and passing_ids(agent, "web-proxy") == []
    put(agent, "/v1/agent/service/maintenance/web-1?enable=false")
    wait_check(agent, "proxy-alias", "warning")
    put(agent, "/v1/agent/check/pass/web-ttl")
    wait_check(agent, "proxy-alias", "passing")

    # Node maintenance: a node-level critical check, mirrored by both aliases.
    put(agent, "/v1/agent/maintenance?enable=true&reason=kernel")
    wait_check(agent, "node-alias", "critical")
    wait_check(agent, "proxy-alias", "critical")
    assert passing_ids(agent, "web") == []
    put(agent, "/v1/agent/maintenance?enable=false")
    wait_check(agent, "node-alias", "passing")
    wait_check(agent, "proxy-alias", "passing")
    assert passing_ids(agent, "web") == ["web-1"]

    put(agent, "/v1/agent/service/deregister/web-1")
    wait_check(agent, "proxy-alias", "critical",
               output="Service web-1 could not be found on node agent")


def test_deregister_critical_service_after(make_agent, monkeypatch):
    # Consul reaps every 30 s with a 1 min minimum; tests shorten both.
    monkeypatch.setenv("CAIRN_CHECK_REAP_INTERVAL", "200ms")
    monkeypatch.setenv("CAIRN_CHECK_DEREGISTER_MIN", "1s")
    a = make_agent().start()
    listener = TcpListener()
    try:
        put(a, "/v1/agent/service/register",
            {"Name": "doomed", "Check": {"TCP": f"127.0.0.1:{closed_port()}", "Interval": "1s",
                                         "DeregisterCriticalServiceAfter": "1s"}})
        put(a, "/v1/agent/service/register",
            {"Name": "fine", "Check": {"TCP": f"127.0.0.1:{listener.port}", "Interval": "1s",
                                       "DeregisterCriticalServiceAfter": "1s"}})
        wait_check(a, "service:fine", "passing")
        wait_for(lambda: "doomed" not in a.http.get("/v1/agent/services").json(), 8,
                 "the critical service to be deregistered")
        assert "doomed" not in a.http.get("/v1/catalog/services").json()
        assert "service:doomed" not in checks(a)
        assert "fine" in a.http.get("/v1/agent/services").json()
        assert "deregistering its service" in a.daemon.output()
    finally:
        listener.close()


def test_check_state_survives_a_restart(make_agent):
    listener = TcpListener()
    try:
        a = make_agent().start()
        put(a, "/v1/agent/check/register",
            {"Name": "db", "TCP": f"127.0.0.1:{listener.port}", "Interval": "1s"})
        wait_check(a, "db", "passing")
        state_dir = a.data_dir / "checks" / "state"
        wait_for(lambda: any('"passing"' in f.read_text() for f in state_dir.glob("*.json")),
                 5, "the check state to be persisted")
        a.kill9()
        a.start()
        # Back with its last status before its first run, then running again.
        c = checks(a)["db"]
        assert c["Status"] == "passing"
        assert c["Output"] == f"TCP connect 127.0.0.1:{listener.port}: Success"
        listener.close()
        wait_check(a, "db", "critical")
    finally:
        listener.close()
