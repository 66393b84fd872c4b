"""telemetry.statsd_address and dogstatsd_addr: the agent sends its metrics
(Consul's names) over UDP every metrics_interval; a loopback listener gets them."""
import socket

from harness import dns_query, wait_for


class UdpListener:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.datagrams = []

    @property
    def address(self):
        return "127.0.0.1:%d" % self.sock.getsockname()[1]

    def poll(self):
        """Takes what has arrived so far (never waits: the agent keeps sending)."""
        try:
            while True:
                self.datagrams.append(self.sock.recv(65535).decode())
        except BlockingIOError:
            pass
        return self.lines()

    def lines(self):
        return [l for d in self.datagrams for l in d.split("\n")]

    def close(self):
        self.sock.close()


def test_statsd_receives_the_agents_metrics(make_agent):
    rx = UdpListener()
    a = make_agent()
    a.write_config("telemetry.yaml",
                   f"telemetry:\n  statsd_address: {rx.address}\n  metrics_interval: 100ms\n")
    a.start()
    hostname = socket.gethostname()
    dns_query(a.dns_port, "consul.service.consul", "A")

    def got_all():
        lines = rx.poll()
        gauges = [l for l in lines if l.startswith(f"consul.{hostname}.agent.services:")]
        queries = [l for l in lines if l.startswith("consul.dns.queries") and l.endswith("|c")]
        return gauges and queries and (gauges, queries)
    gauges, queries = wait_for(got_all, 10, "statsd lines for a gauge and the DNS query counter")
    assert gauges[0].endswith("|g")
    assert sum(int(l.split(":")[1].split("|")[0]) for l in queries) >= 1
    assert all(len(d.encode()) <= 1432 for d in rx.datagrams)
    # Sent every interval, not once: more datagrams keep arriving.
    n = len(rx.datagrams)
    wait_for(lambda: rx.poll() and len(rx.datagrams) >= n + 3, 5, "more statsd datagrams")
    sent = [m for m in a.http.get("/v1/agent/metrics").json()["Counters"]
            if m["Name"] == "consul.cairn.statsd.datagrams"]
    assert sent and sent[0]["Count"] >= 3
    rx.close()


def test_dogstatsd_sends_tags_and_no_hostname_in_names(make_agent):
    rx = UdpListener()
    a = make_agent()
    a.write_config("telemetry.json",
                   '{"telemetry": {"dogstatsd_addr": "%s", "dogstatsd_tags": ["env:test"],'
                   ' "metrics_interval": "100ms", "disable_hostname": true}}' % rx.address)
    a.start()
    dns_query(a.dns_port, "consul.service.consul", "A")

    def got():
        lines = rx.poll()
        g = [l for l in lines if l.startswith("consul.agent.services:")]
        q = [l for l in lines if l.startswith("consul.dns.queries:")]
        return g and q and (g, q)
    g, q = wait_for(got, 10, "dogstatsd lines")
    assert g[0].endswith("|g|#env:test"), g[0]
    assert "|c|#env:test," in q[0] and "type:A" in "".join(q), q
    rx.close()


def test_unusable_statsd_address_stops_the_agent(make_agent):
    a = make_agent()
    a.write_config("telemetry.yaml", "telemetry:\n  statsd_address: no-port-here\n")
    a.start(wait=False)
    wait_for(lambda: not a.daemon.alive(), 10, "the agent to exit")
    assert "telemetry.statsd_address" in a.daemon.output()
