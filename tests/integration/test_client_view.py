"""A client agent's streamed view holds the services it is asked about (issue 15): the first
question is answered by a server while the view subscribes, later ones from memory; a service
unused for client_view.subscription_ttl leaves the view; with its server gone the client answers
from what it holds, says so in a metric, and resumes from its index when a server is back."""
import dns.rcode

from dns_helpers import ask, texts
from harness import wait_for
from servers import Datacenter


def view_stats(agent):
    return agent.http.get("/v1/agent/self").json()["Stats"]["rpc"]


def client_with_view(make_agent, server, name, ttl):
    c = make_agent(name=name, dev=False)
    c.write_config("view.hcl", f'client_view {{ subscription_ttl = "{ttl}" }}\n')
    c.start()
    r = c.http.put(f"/v1/agent/join/{getattr(server, 'ip', '127.0.0.1')}:{server.serf_port}")
    assert r.status == 200, r
    wait_for(lambda: view_stats(c)["local_view"] == "current", 20, f"{name}'s view to be current")
    return c


def register(server, node, address, service):
    body = {"Node": node, "Address": address, "Service": {"Service": service, "Port": 80}}
    assert server.http.put("/v1/catalog/register", body).status == 200


def test_a_client_subscribes_to_what_it_is_asked_and_drops_what_it_no_longer_uses(make_agent):
    srv = make_agent(name="srv").start()
    register(srv, "n1", "10.1.0.1", "web")
    register(srv, "n2", "10.1.0.2", "db")
    c = client_with_view(make_agent, srv, "c1", "1s")
    # Only the pinned service (the servers' NS records) is held at first.
    assert view_stats(c)["view_services"] == "1"
    assert view_stats(c)["view_snapshots"] == "1"

    # The first question is answered (by a server), and subscribes.
    assert texts(ask(c, "web.service.consul", "A").answer, "A") == ["10.1.0.1"]
    wait_for(lambda: view_stats(c)["view_services"] == "2", 5, "web to join the view")
    stats = view_stats(c)
    assert stats["view_snapshots"] == "1", "a new subscription is a resume, not a snapshot"
    assert int(stats["view_resumes"]) >= 1
    # From memory now, and current: a new instance of web arrives, db's do not.
    register(srv, "n3", "10.1.0.3", "web")
    wait_for(lambda: texts(ask(c, "web.service.consul", "A").answer, "A") == ["10.1.0.1", "10.1.0.3"],
             5, "the new web instance in the client's DNS")
    health = c.http.get("/v1/health/service/web")
    assert [h["Node"]["Node"] for h in health.json()] == ["n1", "n3"]
    assert health.headers["x-consul-knownleader"] == "true"
    assert c.metric("cairn.client.view.services") == 2
    status = c.cli("status")
    assert "local view  " in status.stdout and "2 services held" in status.stdout, status.stdout
    assert srv.metric("cairn.catalog.stream.watchers") == 1

    # A node lookup is answered and subscribes to the node (n2 runs only db: not held yet).
    assert texts(ask(c, "n2.node.consul", "A").answer, "A") == ["10.1.0.2"]
    wait_for(lambda: view_stats(c)["view_nodes"] == "1", 5, "n2 to join the view")
    assert texts(ask(c, "n2.node.consul", "A").answer, "A") == ["10.1.0.2"]
    assert ask(c, "nowhere.node.consul", "A").rcode() == dns.rcode.NXDOMAIN

    # Unused for its ttl, web leaves the view; asked again, it is answered and comes back.
    wait_for(lambda: view_stats(c)["view_services"] == "1", 10, "unused web to leave the view")
    assert int(view_stats(c)["view_expired"]) >= 1
    assert texts(ask(c, "web.service.consul", "A").answer, "A") == ["10.1.0.1", "10.1.0.3"]
    wait_for(lambda: view_stats(c)["view_services"] == "2", 5, "web back in the view")


def test_a_client_without_its_server_answers_from_what_it_holds_and_catches_up(daemons, tmp_path,
                                                                               make_agent):
    dc = Datacenter(daemons, tmp_path, 1)
    dc.start()
    srv = dc.servers[0]
    register(srv, "n1", "10.1.0.1", "web")
    c = client_with_view(make_agent, srv, "c1", "20m")
    wait_for(lambda: texts(ask(c, "web.service.consul", "A").answer, "A") == ["10.1.0.1"], 5,
             "web in the client's DNS")
    wait_for(lambda: view_stats(c)["view_services"] == "2", 5, "web to join the view")

    srv.stop()
    wait_for(lambda: view_stats(c)["local_view"] == "stale", 10, "the view to fall behind")
    # What the client holds, it still answers: DNS, and HTTP with the age of the view.
    assert texts(ask(c, "web.service.consul", "A").answer, "A") == ["10.1.0.1"]
    r = c.http.get("/v1/health/service/web")
    assert r.status == 200 and r.headers["x-consul-knownleader"] == "false", r
    assert int(r.headers["x-consul-lastcontact"]) > 0
    assert c.metric("cairn.client.view.stale_answers") >= 2
    assert c.metric("cairn.client.view.current") == 0
    assert "answering from the local view while no server streams it" in c.daemon.output()

    # The server comes back: the client catches up (a restarted server has no history
    # of the changes before its restart, so this one is a snapshot) and stays subscribed.
    srv.start()
    wait_for(lambda: view_stats(c)["local_view"] == "current", 30, "the view current again")
    register(srv, "n2", "10.1.0.2", "web")
    wait_for(lambda: texts(ask(c, "web.service.consul", "A").answer, "A") == ["10.1.0.1", "10.1.0.2"],
             5, "a change after the server came back")
    assert c.metric("cairn.client.view.current") == 1


def test_a_clients_extra_dns_loops_answer_from_the_view_and_ask_for_the_rest(make_agent):
    """With dns_config.udp_loops, each loop's replica knows what the view holds: a service it
    does not hold is handed to the agent's loop (a server answers) and then held by all."""
    srv = make_agent(name="srv").start()
    register(srv, "n1", "10.1.0.1", "web")
    c = make_agent(name="c1", dev=False)
    c.write_config("dns.yaml", "dns_config:\n  udp_loops: 3\n")
    c.start()
    assert c.http.put(f"/v1/agent/join/127.0.0.1:{srv.serf_port}").status == 200
    wait_for(lambda: view_stats(c)["local_view"] == "current", 20, "c1's view to be current")
    # Each question from a new socket: the kernel spreads them over the loops.
    for _ in range(30):
        assert texts(ask(c, "web.service.consul", "A").answer, "A") == ["10.1.0.1"]
    wait_for(lambda: view_stats(c)["view_services"] == "2", 5, "web to join the view")
    register(srv, "n2", "10.1.0.2", "web")
    for _ in range(30):
        wait_for(lambda: texts(ask(c, "web.service.consul", "A").answer, "A")
                 == ["10.1.0.1", "10.1.0.2"], 5, "every loop to answer the new instance")
    assert texts(ask(c, "nothing-here.service.consul", "A").answer, "A") == []
