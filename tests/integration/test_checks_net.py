"""TCP, UDP, gRPC and H2PING checks against real listeners on loopback."""
import socket

import pytest

from check_api import checks, register_check, wait_check
from check_targets import CertAuthority, GrpcHealthServer, TcpListener, UdpListener, closed_port


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return CertAuthority(tmp_path_factory.mktemp("ca"))


def test_tcp_check(agent):
    listener = TcpListener()
    refused = closed_port()
    register_check(agent, {"Name": "tcp-up", "TCP": f"127.0.0.1:{listener.port}",
                           "Interval": "1s"})
    register_check(agent, {"Name": "tcp-down", "TCP": f"127.0.0.1:{refused}", "Interval": "1s"})
    register_check(agent, {"Name": "tcp-v6", "TCP": f"[::1]:{refused}", "Interval": "1s"})
    c = wait_check(agent, "tcp-up", "passing")
    assert c["Output"] == f"TCP connect 127.0.0.1:{listener.port}: Success"
    assert c["Type"] == "tcp"
    c = wait_check(agent, "tcp-down", "critical")
    assert c["Output"] == f"dial tcp 127.0.0.1:{refused}: connect: connection refused"
    c = wait_check(agent, "tcp-v6", "critical")
    assert c["Output"].startswith(f"dial tcp [::1]:{refused}: connect: ")
    listener.close()
    c = wait_check(agent, "tcp-up", "critical")
    assert c["Output"] == f"dial tcp 127.0.0.1:{listener.port}: connect: connection refused"


def test_udp_check(agent):
    replying = UdpListener(reply=True)
    silent = UdpListener(reply=False)
    refused = closed_port(socket.SOCK_DGRAM)
    try:
        register_check(agent, {"Name": "udp-reply", "UDP": f"127.0.0.1:{replying.port}",
                               "Interval": "1s", "Timeout": "2s"})
        register_check(agent, {"Name": "udp-silent", "UDP": f"127.0.0.1:{silent.port}",
                               "Interval": "1s", "Timeout": "300ms"})
        register_check(agent, {"Name": "udp-refused", "UDP": f"127.0.0.1:{refused}",
                               "Interval": "1s", "Timeout": "2s"})
        c = wait_check(agent, "udp-reply", "passing")
        assert c["Output"] == f"UDP connect 127.0.0.1:{replying.port}: Success"
        # Silence until the timeout is passing too (Consul's semantics).
        c = wait_check(agent, "udp-silent", "passing")
        assert silent.received >= 1
        # The ICMP port unreachable comes back as a read error: critical.
        c = wait_check(agent, "udp-refused", "critical")
        assert c["Output"].startswith("read udp 127.0.0.1:")
        assert c["Output"].endswith(f"->127.0.0.1:{refused}: read: connection refused")
        replying.close()
        wait_check(agent, "udp-reply", "critical", contains="connection refused")
    finally:
        silent.close()


def test_grpc_check(agent):
    server = GrpcHealthServer()
    server.status = {"": 1, "api": 1}
    target = f"127.0.0.1:{server.port}"
    try:
        register_check(agent, {"Name": "grpc-all", "GRPC": target, "Interval": "1s"})
        register_check(agent, {"Name": "grpc-api", "GRPC": f"{target}/api", "Interval": "1s"})
        register_check(agent, {"Name": "grpc-nope", "GRPC": f"{target}/nope", "Interval": "1s"})
        register_check(agent, {"Name": "h2ping", "H2PING": target, "Interval": "1s",
                               "H2PingUseTLS": False})
        c = wait_check(agent, "grpc-all", "passing")
        assert c["Output"] == f"gRPC check {target}: success"
        assert c["Type"] == "grpc"
        c = wait_check(agent, "grpc-api", "passing")
        assert c["Output"] == f"gRPC check {target}/api: success"
        c = wait_check(agent, "grpc-nope", "critical")
        assert c["Output"] == "rpc error: code = NotFound desc = unknown service"
        c = wait_check(agent, "h2ping", "passing")
        assert c["Output"] == "HTTP2 ping was successful"

        server.status["api"] = 2
        c = wait_check(agent, "grpc-api", "critical")
        assert c["Output"] == f"gRPC {target}/api serving status: NOT_SERVING"
        server.status["api"] = 1
        wait_check(agent, "grpc-api", "passing")
    finally:
        server.close()
    c = wait_check(agent, "grpc-all", "critical", contains="Unavailable")
    assert c["Output"].startswith("rpc error: code = Unavailable desc = connection error")
    assert "connection refused" in c["Output"]


def test_grpc_over_tls(make_agent, ca):
    server = GrpcHealthServer(tls_cert=ca.cert, tls_key=ca.key)
    target = f"127.0.0.1:{server.port}"
    a = make_agent()
    a.write_config("tls.yaml", f"tls:\n  defaults:\n    ca_file: {ca.ca_cert}\n")
    a.start()
    try:
        register_check(a, {"Name": "grpc-tls", "GRPC": target, "GRPCUseTLS": True,
                           "Interval": "1s"})
        register_check(a, {"Name": "grpc-tls-name", "GRPC": f"localhost:{server.port}",
                           "GRPCUseTLS": True, "TLSServerName": "check.test", "Interval": "1s"})
        register_check(a, {"Name": "grpc-plain", "GRPC": target, "Interval": "1s",
                           "Timeout": "2s"})
        c = wait_check(a, "grpc-tls", "passing")
        assert c["Output"] == f"gRPC check {target}: success"
        wait_check(a, "grpc-tls-name", "passing")
        # Cleartext HTTP/2 against a TLS port cannot work.
        wait_check(a, "grpc-plain", "critical")
    finally:
        server.close()
