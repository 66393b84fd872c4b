"""Telemetry under Consul's names: /v1/agent/metrics in JSON and Prometheus text
(docs/metrics.md), and telemetry.statsd_address and dogstatsd_addr, to which the
agent sends its metrics over UDP every metrics_interval (a loopback listener gets them)."""
import re
import socket

from harness import dns_query, wait_for
from servers import Datacenter, kv_put
from test_client_agents import client_of


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


def metrics_json(agent):
    return agent.http.get("/v1/agent/metrics").json()


def sample(m, name, **labels):
    """A Samples (timer) entry's Count; 0 when the timer observed nothing yet."""
    for e in m["Samples"]:
        if e["Name"] == name and all(e["Labels"].get(k) == v for k, v in labels.items()):
            return e["Count"]
    return 0


def counter(m, name, **labels):
    for e in m["Counters"]:
        if e["Name"] == name and all(e["Labels"].get(k) == v for k, v in labels.items()):
            return e["Count"]
    return None


def gauge(m, name, **labels):
    for e in m["Gauges"]:
        if e["Name"] == name and all(e["Labels"].get(k) == v for k, v in labels.items()):
            return e["Value"]
    return None


def prom_value(text, series):
    """The value of one series line ("name{labels}") in Prometheus text; None when absent."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_consul_named_metrics_move_with_dns_http_kv_and_registrations(make_agent):
    a = make_agent().start()
    before = metrics_json(a)
    for _ in range(3):
        assert a.http.get("/v1/agent/services").status == 200
    assert a.http.put("/v1/kv/metrics/a", "1").text == "true"
    assert a.http.put("/v1/kv/metrics/b", "2").text == "true"
    assert a.http.get("/v1/kv/metrics/a").status == 200
    assert a.http.put("/v1/catalog/register", {"Node": "ext", "Address": "10.1.2.3",
                      "Service": {"Service": "db", "Port": 5432}}).status == 200
    assert a.http.put("/v1/agent/service/register", {"Name": "web", "Port": 80}).status == 200
    dns_query(a.dns_port, "consul.service.consul", "A")
    dns_query(a.dns_port, "db.service.consul", "SRV")
    dns_query(a.dns_port, "1.0.0.127.in-addr.arpa", "PTR")
    m = metrics_json(a)

    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC", m["Timestamp"])
    assert set(m) == {"Timestamp", "Gauges", "Points", "Counters", "Samples"}
    e = next(e for e in m["Samples"] if e["Name"] == "consul.http.GET.v1.agent.services")
    assert set(e) == {"Name", "Count", "Rate", "Sum", "Min", "Max", "Mean", "Stddev", "Labels"}
    assert set(next(iter(m["Gauges"]))) == {"Name", "Value", "Labels"}

    # HTTP timers: Consul's per-route name and the labelled consul.api.http.
    moved = lambda name, **l: sample(m, name, **l) - sample(before, name, **l)
    assert moved("consul.http.GET.v1.agent.services") == 3
    assert moved("consul.api.http", method="GET", path="v1.agent.services") == 3
    assert moved("consul.http.PUT.v1.kv._") == 2
    assert moved("consul.http.GET.v1.kv._") == 1
    assert moved("consul.http.PUT.v1.catalog.register") == 1
    assert moved("consul.http.PUT.v1.agent.service.register") == 1
    # What Consul's servers time as RPC endpoints.
    assert moved("consul.kvs.apply") == 2
    assert moved("consul.catalog.register") == 1
    # DNS timers.
    assert moved("consul.dns.domain_query") >= 2
    assert moved("consul.dns.ptr_query") == 1
    assert counter(m, "consul.dns.stale_queries") is not None
    # Reads of the state on a server, and the state's sizes.
    assert counter(m, "consul.rpc.query") - (counter(before, "consul.rpc.query") or 0) >= 1
    assert gauge(m, "consul.state.kv_entries") >= 2
    assert gauge(m, "consul.state.nodes") >= 2
    assert gauge(m, "consul.state.services") >= 2
    assert gauge(m, "consul.state.service_instances") >= 2
    assert gauge(m, "consul.server.isLeader") == 1
    # The process, in Consul's runtime names.
    assert gauge(m, "consul.runtime.alloc_bytes") > 0
    assert gauge(m, "consul.runtime.sys_bytes") > 1 << 20
    assert gauge(m, "consul.runtime.num_goroutines") >= 1
    assert gauge(m, "process.open_fds") >= 3

    # The same in Prometheus text: dots become underscores, timers are summaries.
    r = a.http.get("/v1/agent/metrics?format=prometheus")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert "# TYPE consul_http_GET_v1_agent_services summary" in text
    assert prom_value(text, "consul_http_GET_v1_agent_services_count") >= 3
    assert prom_value(text, 'consul_api_http_count{method="GET",path="v1.agent.services"}') >= 3
    assert prom_value(text, "consul_http_PUT_v1_kv___count") >= 2
    assert prom_value(text, "consul_kvs_apply_count") >= 2
    assert prom_value(text, "consul_catalog_register_count") >= 1
    assert prom_value(text, "consul_dns_ptr_query_count") >= 1
    assert "# TYPE consul_rpc_query counter" in text
    assert prom_value(text, "consul_state_kv_entries") >= 2
    assert prom_value(text, "consul_runtime_alloc_bytes") > 0
    assert prom_value(text, "process_resident_memory_bytes") > 0
    assert prom_value(text, "process_open_fds") >= 3
    # A route nobody called has no timer lines.
    assert "consul_http_PUT_v1_txn" not in text


def test_a_client_agent_counts_its_rpcs_and_the_server_its_requests(make_agent):
    srv = make_agent(name="srv").start()
    c = client_of(make_agent, srv)
    before_c, before_s = metrics_json(c), metrics_json(srv)
    assert c.http.put("/v1/kv/through-client", "1").text == "true"
    assert c.http.get("/v1/kv/through-client").status == 200
    assert c.http.get("/v1/catalog/nodes").status == 200
    after_c, after_s = metrics_json(c), metrics_json(srv)

    assert counter(after_c, "consul.client.rpc") - counter(before_c, "consul.client.rpc") >= 3
    assert counter(after_c, "consul.client.rpc.failed") is not None
    # The client times what it forwards under the route's name; the server times the
    # write as Consul's servers do and counts the RPCs it received.
    assert sample(after_c, "consul.http.PUT.v1.kv._") - sample(before_c, "consul.http.PUT.v1.kv._") == 1
    assert sample(after_c, "consul.kvs.apply") == 0
    assert sample(after_s, "consul.kvs.apply") - sample(before_s, "consul.kvs.apply") == 1
    # ...but not under the HTTP names: Consul's server sees an RPC, not an HTTP request.
    assert sample(after_s, "consul.http.PUT.v1.kv._") == sample(before_s, "consul.http.PUT.v1.kv._")
    assert counter(after_s, "consul.rpc.request") - counter(before_s, "consul.rpc.request") >= 3
    assert counter(after_s, "consul.rpc.query") - counter(before_s, "consul.rpc.query") >= 2
    assert counter(after_s, "consul.client.rpc") is None  # servers make no client RPCs
    # The client's anti-entropy registers it on the server: Consul's Catalog.Register.
    wait_for(lambda: sample(metrics_json(srv), "consul.catalog.register") >= 1, 10,
             "the server to time the client's catalog sync")
    # Gossip: the server saw the client join its LAN pool.
    assert counter(after_s, "consul.serf.member.join", network="lan") >= 1
    assert gauge(after_s, "consul.members.clients") >= 1
    assert gauge(after_s, "consul.members.servers") >= 1
    assert gauge(after_c, "consul.memberlist.health.score", network="lan") is not None
    # Joining was a push/pull over TCP; UDP probes may not have started yet.
    assert counter(after_c, "consul.memberlist.tcp.sent", network="lan") > 0
    assert counter(after_c, "consul.memberlist.udp.sent", network="lan") is not None

    text = c.http.get("/v1/agent/metrics?format=prometheus").text
    assert "# TYPE consul_client_rpc counter" in text
    assert prom_value(text, "consul_client_rpc") >= 3
    assert prom_value(text, 'consul_serf_member_join{network="lan"}') >= 1


def test_a_server_over_etcd_reports_leadership_commits_and_autopilot(daemons, tmp_path):
    dc = Datacenter(daemons, tmp_path, 1)
    dc.start()
    s0 = dc.servers[0]
    before = metrics_json(s0)
    assert kv_put(s0, "committed", "1").text == "true"
    m = metrics_json(s0)
    assert gauge(m, "consul.server.isLeader") == 1
    assert counter(m, "consul.raft.state.leader") == 1
    assert counter(m, "consul.raft.apply") - counter(before, "consul.raft.apply") >= 1
    assert gauge(m, "consul.autopilot.healthy") == 1
    assert gauge(m, "consul.autopilot.failure_tolerance") == 0
    assert sample(m, "consul.kvs.apply") - sample(before, "consul.kvs.apply") == 1
    assert gauge(m, "consul.state.kv_entries") >= 1
    text = s0.http.get("/v1/agent/metrics?format=prometheus").text
    assert prom_value(text, "consul_raft_state_leader") == 1
    assert prom_value(text, "consul_autopilot_healthy") == 1
