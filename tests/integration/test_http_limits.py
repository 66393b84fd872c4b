"""The HTTP API's limits (issue 12 defect 6, issue 13): each is agent config
(`limits`, `http_config`), each refusal or timeout is a counter in
/v1/agent/metrics, transfer codings other than chunked get 501, and idle
connections that never send a byte cannot lock new clients out for long."""
import gzip
import json
import socket
import subprocess
import time

import pytest

from harness import SLOW, binary, prometheus_value, wait_for

# Short timeouts so that each one can be tripped in about a second.
LIMITS_CONFIG = """
limits:
  http_max_conns_per_client: 4
  http_first_byte_timeout: 700ms
  http_read_timeout: 700ms
  http_idle_timeout: 700ms
http_config:
  max_header_bytes: 2048
  max_body_bytes: 1024
  response_headers:
    X-Frame-Options: DENY
    Content-Type: text/x-overridden
"""


@pytest.fixture
def limited(make_agent):
    a = make_agent()
    a.write_config("limits.yaml", LIMITS_CONFIG)
    return a.start()


def connect(agent) -> socket.socket:
    return socket.create_connection(("127.0.0.1", agent.port), timeout=5 * SLOW)


def read_head(sock) -> bytes:
    """Reads until the end of a response head (or EOF); returns what came."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def read_to_eof(sock) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def status_of(head: bytes) -> int:
    assert head.startswith(b"HTTP/1.1 "), head[:200]
    return int(head.split(b" ", 2)[1])


def closed_by_server(sock, within: float) -> bool:
    """True once the server closes sock (EOF or reset) within the bound."""
    sock.settimeout(within * SLOW)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def metric(agent, name, **labels) -> float:
    return agent.metric(name, **labels)


# --- transfer codings (issue 12 defect 6) ---------------------------------

def chunked(body: bytes) -> bytes:
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


@pytest.mark.parametrize("coding", ["gzip, chunked", "deflate,chunked", "chunked, chunked"])
def test_transfer_coding_other_than_chunked_is_501_and_nothing_is_stored(agent, coding):
    body = gzip.compress(b"secret value")
    with connect(agent) as s:
        s.sendall(b"PUT /v1/kv/te-key HTTP/1.1\r\nHost: x\r\n"
                  + f"Transfer-Encoding: {coding}\r\n\r\n".encode() + chunked(body))
        answer = read_to_eof(s)
    assert status_of(answer) == 501, answer
    assert answer.endswith(b"Unsupported transfer encoding"), answer
    assert agent.http.get("/v1/kv/te-key").status == 404, "a refused body was stored"
    assert metric(agent, "consul.http.requests_rejected", reason="transfer_encoding") == 1


def test_two_transfer_encoding_fields_are_501(agent):
    with connect(agent) as s:
        s.sendall(b"PUT /v1/kv/te-key HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n" + chunked(b"v"))
        assert status_of(read_head(s)) == 501
    assert agent.http.get("/v1/kv/te-key").status == 404


def test_plain_chunked_body_is_still_decoded_and_stored(agent):
    with connect(agent) as s:
        s.sendall(b"PUT /v1/kv/te-key HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
                  + chunked(b"hello"))
        assert status_of(read_head(s)) == 200
    assert agent.http.get("/v1/kv/te-key?raw").body == b"hello"


# --- idle connections and timeouts ------------------------------------------

def test_idle_connections_that_never_send_are_closed_and_new_clients_served(make_agent):
    """Four silent connections fill the per-client limit; the first-byte timeout
    closes them and a new client is served again (was: 429s for 120 s). The
    keep-alive idle timeout stays long: it is not what closes them."""
    a = make_agent()
    a.write_config("limits.yaml", "limits:\n  http_max_conns_per_client: 4\n"
                   "  http_first_byte_timeout: 700ms\n  http_idle_timeout: 60s\n")
    a.start()
    a.http.close()
    idle = [connect(a) for _ in range(4)]
    try:
        with connect(a) as s:
            s.sendall(b"GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status_of(read_head(s)) == 429, "the idle connections did not fill the limit"
        start = time.monotonic()
        for sock in idle:
            assert closed_by_server(sock, 5), "an idle connection outlived the first-byte timeout"
        assert time.monotonic() - start < 5 * SLOW
    finally:
        for sock in idle:
            sock.close()
    wait_for(lambda: a.http.get("/v1/status/leader").status == 200, 5,
             "a new client to be served after the idle connections were closed")
    assert metric(a, "consul.http.timeouts", reason="http_first_byte_timeout") >= 4
    assert metric(a, "consul.http.connections_rejected", reason="http_max_conns_per_client") >= 1


def test_read_timeout_closes_a_request_that_stops_halfway(limited):
    a = limited
    with connect(a) as s:
        s.sendall(b"GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n")  # headers never end
        assert closed_by_server(s, 5)
    assert metric(a, "consul.http.timeouts", reason="http_read_timeout") == 1


def test_idle_timeout_closes_a_quiet_keep_alive_connection(limited):
    a = limited
    with connect(a) as s:
        s.sendall(b"GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n\r\n")
        head = read_head(s)
        assert status_of(head) == 200
        assert closed_by_server(s, 5), "the keep-alive connection was never closed"
    assert metric(a, "consul.http.timeouts", reason="http_idle_timeout") >= 1


# --- size limits ---------------------------------------------------------------

def test_header_bytes_limit_is_431_and_counted(limited):
    a = limited
    with connect(a) as s:
        s.sendall(b"GET /v1/status/leader HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 3000
                  + b"\r\n\r\n")
        assert status_of(read_head(s)) == 431
    with connect(a) as s:  # under the limit: served
        s.sendall(b"GET /v1/status/leader HTTP/1.1\r\nHost: x\r\nX-Small: " + b"a" * 1000
                  + b"\r\n\r\n")
        assert status_of(read_head(s)) == 200
    assert metric(a, "consul.http.requests_rejected", reason="max_header_bytes") == 1


def test_body_bytes_limit_is_413_and_counted(limited):
    a = limited
    r = a.http.request("PUT", "/v1/kv/big", body="x" * 2000)
    assert r.status == 413
    assert a.http.get("/v1/kv/big").status == 404
    assert a.http.request("PUT", "/v1/kv/small", body="x" * 1000).status == 200
    assert metric(a, "consul.http.requests_rejected", reason="max_body_bytes") == 1


def test_total_connection_limit_is_429_and_counted(make_agent):
    a = make_agent()
    a.write_config("limits.yaml", "limits:\n  http_max_conns: 3\n  http_max_conns_per_client: 100\n")
    a.start()
    a.http.close()
    held = [connect(a) for _ in range(3)]
    try:
        with connect(a) as s:
            s.sendall(b"GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status_of(read_head(s)) == 429
        # Read the counter over a connection already held: a new one could be
        # refused itself (and counted) while the server has not yet seen the
        # rejected socket close.
        held[0].sendall(b"GET /v1/agent/metrics?format=prometheus HTTP/1.1\r\n"
                        b"Host: x\r\nConnection: close\r\n\r\n")
        answer = read_to_eof(held[0]).decode(errors="replace")
        assert answer.startswith("HTTP/1.1 200"), answer[:200]
        rejected = prometheus_value(answer.split("\r\n\r\n", 1)[1],
                                    "consul_http_connections_rejected", reason="http_max_conns")
        assert rejected == 1
    finally:
        for sock in held:
            sock.close()


def test_limit_counters_are_in_json_metrics_too(limited):
    a = limited
    assert a.http.request("PUT", "/v1/kv/big", body="x" * 2000).status == 413
    counters = a.http.get("/v1/agent/metrics").json()["Counters"]
    found = [c for c in counters if c["Name"] == "consul.http.requests_rejected"
             and c.get("Labels", {}).get("reason") == "max_body_bytes"]
    assert found and found[0]["Count"] == 1, counters


# --- response headers ----------------------------------------------------------

def test_response_headers_are_added_to_every_answer(limited):
    a = limited
    for path, status in (("/v1/agent/self", 200), ("/v1/kv/missing", 404), ("/nothing", 404)):
        r = a.http.get(path)
        assert r.status == status
        assert r.headers.get("x-frame-options") == "DENY", (path, r.headers)
    # A header the handler sets itself wins over the configured one (as in Consul).
    assert a.http.get("/v1/agent/self").headers["content-type"] == "application/json"


@pytest.mark.parametrize("bad,message", [
    ('http_config:\n  response_headers:\n    "X-A": "v\\r\\nSet-Cookie: x"\n', "CR, LF"),
    ('http_config:\n  response_headers:\n    "Bad Name": "v"\n', "not a valid HTTP token"),
    ("limits:\n  http_first_byte_timeout: 0s\n", "at least 1ms"),
    ("http_config:\n  block_endpoints: [\"/v1/kv\"]\n", "block_endpoints"),
])
def test_bad_limit_config_is_refused_with_its_file(tmp_path, bad, message):
    f = tmp_path / "bad.yaml"
    f.write_text(bad)
    p = subprocess.run([binary("cairn"), "validate", str(f)], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode != 0
    out = p.stdout + p.stderr
    assert "bad.yaml" in out and message in out, out


def test_defaults_are_the_documented_ones(agent):
    """Without a limits block the agent still serves a 1000-byte header and a 100 KB body."""
    r = agent.http.request("PUT", "/v1/kv/medium", body="x" * 100_000,
                           headers={"X-Pad": "p" * 1000})
    assert r.status == 200
    assert json.loads(agent.http.get("/v1/kv/medium").body)[0]["Key"] == "medium"
