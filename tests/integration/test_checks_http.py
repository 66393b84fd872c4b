"""HTTP and HTTPS checks against real servers on loopback: every transition,
Consul's output texts, the request the agent sends, TLS, redirects, and
hostile targets."""
import pytest

from check_api import checks, register_check, wait_check
from check_targets import HttpTarget, TcpListener, CertAuthority, closed_port
from harness import wait_for


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return CertAuthority(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def target():
    t = HttpTarget()
    yield t
    t.close()


def passing_ids(agent, service):
    entries = agent.http.get(f"/v1/health/service/{service}?passing").json()
    return [e["Service"]["ID"] for e in entries]


def test_http_check_sees_every_transition_and_health_follows(agent, target):
    r = agent.http.put("/v1/agent/service/register", {
        "Name": "web", "ID": "web-1", "Port": target.port,
        "Check": {"CheckID": "web-http", "HTTP": target.url(), "Interval": "1s",
                  "Timeout": "500ms"}})
    assert r.status == 200
    url = target.url()
    c = wait_check(agent, "web-http", "passing")
    assert c["Output"] == f"HTTP GET {url}: 200 OK Output: ok"
    assert c["Type"] == "http"
    wait_for(lambda: passing_ids(agent, "web") == ["web-1"], 5, "web-1 to be listed as passing")

    target.mode, target.body = 429, b"slow down"
    c = wait_check(agent, "web-http", "warning")
    assert c["Output"] == f"HTTP GET {url}: 429 Too Many Requests Output: slow down"
    assert passing_ids(agent, "web") == []  # ?passing drops warning too

    target.mode, target.body = 500, b"boom"
    c = wait_check(agent, "web-http", "critical")
    assert c["Output"] == f"HTTP GET {url}: 500 Internal Server Error Output: boom"
    assert passing_ids(agent, "web") == []
    health = agent.http.get("/v1/health/service/web").json()
    assert [e["Service"]["ID"] for e in health] == ["web-1"]  # still listed without ?passing

    target.mode = "hang"
    c = wait_check(agent, "web-http", "critical", contains="Client.Timeout")
    assert c["Output"] == (f'Get "{url}": context deadline exceeded '
                           "(Client.Timeout exceeded while awaiting headers)")

    target.mode, target.body = 200, b"ok"
    target.release.set()
    wait_check(agent, "web-http", "passing")
    wait_for(lambda: passing_ids(agent, "web") == ["web-1"], 5, "web-1 to be passing again")

    # What the agent sent, every time: Consul's headers, a new connection.
    method, path, headers, _ = target.requests[-1]
    assert (method, path) == ("GET", "/health")
    assert headers["user-agent"] == "Consul Health Check"
    assert headers["accept"] == "text/plain, text/*, */*"
    assert headers["connection"] == "close"
    assert headers["host"] == f"127.0.0.1:{target.port}"
    # A status change is logged once, not once per run.
    log = agent.daemon.output()
    changes = [line for line in log.splitlines()
               if "check status changed" in line and "web-http" in line]
    assert len(changes) == 4, changes  # passing, warning, critical, passing


def test_method_header_body_and_host(agent, target):
    register_check(agent, {"Name": "post", "HTTP": target.url("/submit"), "Method": "POST",
                           "Header": {"X-Token": ["a", "b"], "Host": ["svc.internal"],
                                      "User-Agent": ["custom/1"]},
                           "Body": '{"ping":true}', "Interval": "1s"})
    c = wait_check(agent, "post", "passing")
    assert c["Output"] == f"HTTP POST {target.url('/submit')}: 200 OK Output: ok"
    method, path, headers, body = target.requests[-1]
    assert (method, path, body) == ("POST", "/submit", b'{"ping":true}')
    assert headers["host"] == "svc.internal"
    assert headers["user-agent"] == "custom/1"
    assert headers["content-length"] == str(len(body))
    assert headers["x-token"] == "a, b"  # a list in Header: one header line per value


def test_output_is_capped_and_huge_or_hostile_targets_end_at_the_timeout(agent, target):
    garbage, drip, huge = HttpTarget(), HttpTarget(), HttpTarget()
    garbage.mode, drip.mode, huge.mode = "garbage", "drip", "huge"
    target.body = b"z" * 10000
    try:
        for cid, t in (("big", target), ("garbage", garbage), ("drip", drip), ("huge", huge)):
            register_check(agent, {"Name": cid, "HTTP": t.url(), "Interval": "1s",
                                   "Timeout": "700ms"})
        c = wait_check(agent, "big", "passing")
        prefix = f"HTTP GET {target.url()}: 200 OK Output: "
        assert c["Output"] == prefix + "z" * 4096  # check_output_max_size
        c = wait_check(agent, "garbage", "critical", contains="malformed HTTP response")
        assert c["Output"].startswith(f'Get "{garbage.url()}": net/http: HTTP/1.x transport '
                                      "connection broken: malformed HTTP response")
        wait_check(agent, "drip", "critical", contains="Client.Timeout exceeded")
        c = wait_check(agent, "huge", "passing")
        assert len(c["Output"]) == len(f"HTTP GET {huge.url()}: 200 OK Output: ") + 4096
        # Memory stays bounded: the agent never buffered a 100 MB body.
        pid = agent.daemon.proc.pid
        rss_kb = int([line for line in open(f"/proc/{pid}/status")
                      if line.startswith("VmRSS")][0].split()[1])
        assert rss_kb < 200 * 1024
    finally:
        for t in (garbage, drip, huge):
            t.close()


def test_connection_refused(agent):
    port = closed_port()
    register_check(agent, {"Name": "refused", "HTTP": f"http://127.0.0.1:{port}/",
                           "Interval": "1s"})
    register_check(agent, {"Name": "refused-name", "HTTP": f"http://localhost:{port}/",
                           "Interval": "1s"})
    c = wait_check(agent, "refused", "critical", contains="refused")
    assert c["Output"] == (f'Get "http://127.0.0.1:{port}/": dial tcp 127.0.0.1:{port}: '
                           "connect: connection refused")
    # localhost: both loopback addresses are tried; the first error is reported, as Go does.
    c = wait_check(agent, "refused-name", "critical", contains="refused")
    assert c["Output"].startswith(f'Get "http://localhost:{port}/": dial tcp 127.0.0.1:{port}')


def test_redirects_are_followed_as_consul_does(agent, target):
    target.mode = 200
    register_check(agent, {"Name": "moved", "HTTP": target.url("/moved"), "Interval": "1s"})
    register_check(agent, {"Name": "chain-ok", "HTTP": target.url("/chain/9"), "Interval": "1s"})
    register_check(agent, {"Name": "chain-long", "HTTP": target.url("/chain/10"),
                           "Interval": "1s"})
    register_check(agent, {"Name": "no-follow", "HTTP": target.url("/moved"), "Interval": "1s",
                           "DisableRedirects": True})
    register_check(agent, {"Name": "post-moved", "HTTP": target.url("/moved"), "Method": "POST",
                           "Body": "x", "Interval": "1s"})
    c = wait_check(agent, "moved", "passing")
    # The URL is the configured one; status and body are the final response's.
    assert c["Output"] == f"HTTP GET {target.url('/moved')}: 200 OK Output: landed"
    c = wait_check(agent, "chain-ok", "passing")
    assert c["Output"].endswith("200 OK Output: end of chain")
    c = wait_check(agent, "chain-long", "critical")
    assert c["Output"] == f'Get "{target.url("/chain/1")}": stopped after 10 redirects'
    c = wait_check(agent, "no-follow", "critical")
    assert c["Output"] == f"HTTP GET {target.url('/moved')}: 301 Moved Permanently Output: moved"
    c = wait_check(agent, "post-moved", "passing")
    assert c["Output"].startswith(f"HTTP POST {target.url('/moved')}: 200 OK")
    # A 301 turns POST into a GET without the body, as Go's client does.
    landed = [r for r in target.requests if r[1] == "/landed"]
    assert landed and all(r[0] == "GET" and r[3] == b"" for r in landed)
    assert any(r[0] == "POST" and r[1] == "/moved" for r in target.requests)


def test_https_verification_sni_and_skip_verify(make_agent, ca, tmp_path):
    good = HttpTarget(tls_cert=ca.cert, tls_key=ca.key)
    rogue = HttpTarget(tls_cert=ca.rogue_cert, tls_key=ca.rogue_key)
    a = make_agent()
    a.write_config("tls.yaml", f"tls:\n  defaults:\n    ca_file: {ca.ca_cert}\n")
    a.start()
    try:
        register_check(a, {"Name": "by-name", "HTTP": good.url(host="localhost"),
                           "Interval": "1s", "Timeout": "1s"})
        register_check(a, {"Name": "server-name", "HTTP": good.url(), "Interval": "1s",
                           "TLSServerName": "check.test"})
        register_check(a, {"Name": "wrong-name", "HTTP": good.url(), "Interval": "1s",
                           "TLSServerName": "wrong.test"})
        register_check(a, {"Name": "untrusted", "HTTP": rogue.url(), "Interval": "1s"})
        register_check(a, {"Name": "skip-verify", "HTTP": rogue.url(), "Interval": "1s",
                           "TLSSkipVerify": True})
        c = wait_check(a, "by-name", "passing")
        assert c["Output"] == f"HTTP GET {good.url(host='localhost')}: 200 OK Output: ok"
        wait_check(a, "server-name", "passing")
        assert "localhost" in good.sni and "check.test" in good.sni  # SNI sent as Go sends it
        c = wait_check(a, "wrong-name", "critical")
        assert c["Output"] == (f'Get "{good.url()}": tls: failed to verify certificate: '
                               "x509: certificate is not valid for wrong.test")
        c = wait_check(a, "untrusted", "critical")
        assert c["Output"] == (f'Get "{rogue.url()}": tls: failed to verify certificate: '
                               "x509: certificate signed by unknown authority")
        wait_check(a, "skip-verify", "passing")
        # Switchable like the plain server.
        good.mode = 429
        wait_check(a, "by-name", "warning")
        good.mode = 500
        wait_check(a, "by-name", "critical")
        good.mode = "hang"
        wait_check(a, "by-name", "critical", contains="Client.Timeout")
    finally:
        good.close()
        rogue.close()


def test_bad_check_definitions_are_400_naming_the_field(agent):
    cases = [
        ({"Name": "two", "HTTP": "http://127.0.0.1:1/", "TCP": "127.0.0.1:1", "Interval": "1s"},
         "only one of"),
        ({"Name": "none", "Interval": "10s"}, "exactly one of"),
        ({"Name": "no-interval", "HTTP": "http://127.0.0.1:1/"}, "Interval"),
        ({"Name": "negative", "TCP": "127.0.0.1:1", "Interval": "-5s"}, "Interval"),
        ({"Name": "neg-timeout", "TCP": "127.0.0.1:1", "Interval": "5s", "Timeout": "-1s"},
         "Timeout"),
        ({"Name": "bad-url", "HTTP": "localhost:8080/health", "Interval": "1s"}, "HTTP"),
        ({"Name": "bad-port", "HTTP": "http://127.0.0.1:99999/", "Interval": "1s"}, "HTTP"),
        ({"Name": "bad-tcp", "TCP": "127.0.0.1", "Interval": "1s"}, "TCP"),
        ({"Name": "bad-udp", "UDP": "nowhere", "Interval": "1s"}, "UDP"),
        ({"Name": "bad-grpc", "GRPC": "host-without-port/svc", "Interval": "1s"}, "GRPC"),
        ({"Name": "bad-method", "HTTP": "http://127.0.0.1:1/", "Method": "GE T",
          "Interval": "1s"}, "Method"),
        ({"Name": "bad-duration", "TCP": "127.0.0.1:1", "Interval": "soon"}, "Interval"),
    ]
    for body, field in cases:
        r = agent.http.put("/v1/agent/check/register", body)
        assert r.status == 400, (body, r)
        assert field in r.text, (body, r.text)
    assert checks(agent) == {}
    # A tiny interval is not an error: Consul raises it to one second.
    register_check(agent, {"Name": "tiny", "TCP": f"127.0.0.1:{closed_port()}",
                           "Interval": "1ms"})
    wait_check(agent, "tiny", "critical", contains="refused")
    assert "interval below the minimum" in agent.daemon.output()


def test_a_hanging_check_never_overlaps_itself_nor_delays_others(agent, target):
    target.mode = "hang"
    listener = TcpListener()
    try:
        register_check(agent, {"Name": "slow", "HTTP": target.url(), "Interval": "1s",
                               "Timeout": "3s"})
        register_check(agent, {"Name": "fast", "TCP": f"127.0.0.1:{listener.port}",
                               "Interval": "1s"})
        wait_check(agent, "fast", "passing")
        seen = listener.accepted
        # While the slow check's run hangs for 3 s, the fast one keeps running every second.
        wait_for(lambda: listener.accepted >= seen + 2, 4, "the fast check to keep running")
        wait_check(agent, "slow", "critical", contains="Client.Timeout", timeout=8)
        assert target.max_active == 1  # one run at a time
    finally:
        listener.close()
