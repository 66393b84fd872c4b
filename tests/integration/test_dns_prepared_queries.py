"""Prepared queries: the /v1/query API and `<name>.query.<domain>` lookups."""
import dns.flags

from dns_helpers import ask, rcode, records, texts


def setup_services(a):
    for i, (tags, status) in enumerate([(["primary"], "passing"), (["replica"], "passing"),
                                        (["replica"], "warning")]):
        r = a.http.put("/v1/agent/service/register", {
            "Name": "pg", "ID": f"pg{i}", "Port": 5432, "Address": f"10.5.0.{i + 1}", "Tags": tags,
            "Check": {"CheckID": f"pg{i}-ttl", "TTL": "60s", "Status": status}})
        assert r.status == 200


def test_query_api_lifecycle(agent):
    setup_services(agent)
    r = agent.http.request("POST", "/v1/query", {"Name": "db", "Service": {"Service": "pg",
                                                                         "Tags": ["!replica"]},
                                               "DNS": {"TTL": "10s"}})
    assert r.status == 200, r
    qid = r.json()["ID"]
    assert len(qid) == 36

    r = agent.http.get("/v1/query")
    assert r.status == 200 and r.headers["x-consul-index"] != "0"
    (q,) = r.json()
    assert q["ID"] == qid and q["Name"] == "db" and q["Service"]["Tags"] == ["!replica"]
    assert q["DNS"] == {"TTL": "10s"} and q["CreateIndex"] == q["ModifyIndex"] > 0
    assert agent.http.get(f"/v1/query/{qid}").json()[0]["ID"] == qid
    assert agent.http.get("/v1/query/00000000-0000-4000-8000-000000000000").status == 404

    r = agent.http.get("/v1/query/db/execute")
    assert r.status == 200
    body = r.json()
    assert body["Service"] == "pg" and body["Datacenter"] == "dc1" and body["Failovers"] == 0
    assert [n["Service"]["ID"] for n in body["Nodes"]] == ["pg0"]
    assert body["DNS"] == {"TTL": "10s"}
    assert {c["CheckID"] for c in body["Nodes"][0]["Checks"]} >= {"pg0-ttl", "serfHealth"}

    # Update: same ID, new definition; CreateIndex kept.
    r = agent.http.put(f"/v1/query/{qid}", {"Name": "db", "Service": {"Service": "pg", "OnlyPassing": True}})
    assert r.status == 200
    q2 = agent.http.get(f"/v1/query/{qid}").json()[0]
    assert q2["CreateIndex"] == q["CreateIndex"] and q2["ModifyIndex"] > q["ModifyIndex"]
    ids = sorted(n["Service"]["ID"] for n in agent.http.get("/v1/query/db/execute").json()["Nodes"])
    assert ids == ["pg0", "pg1"]  # the warning instance is left out with OnlyPassing
    assert len(agent.http.get("/v1/query/db/execute?limit=1").json()["Nodes"]) == 1

    assert agent.http.request("DELETE", f"/v1/query/{qid}").status == 200
    assert agent.http.get("/v1/query").json() == []
    assert agent.http.get("/v1/query/db/execute").status == 404


def test_query_api_errors(agent):
    r = agent.http.request("POST", "/v1/query", {"Name": "x", "Service": {"Service": ""}})
    assert r.status == 500 and "Must provide a Service name to query" in r.text
    r = agent.http.request("POST", "/v1/query", {"Service": {"Service": "pg"}})
    assert "Must be bound to a session" in r.text
    r = agent.http.request("POST", "/v1/query", {"Name": "a", "Service": {"Service": "pg"},
                                                 "DNS": {"TTL": "soon"}})
    assert "Bad DNS TTL 'soon'" in r.text
    r = agent.http.request("POST", "/v1/query", "{not json")
    assert r.status == 400
    r = agent.http.request("POST", "/v1/query", {"Name": "a", "Service": {"Service": "pg"}})
    assert r.status == 200
    r = agent.http.request("POST", "/v1/query", {"Name": "a", "Service": {"Service": "pg"}})
    assert r.status == 500 and "aliases an existing query name" in r.text
    r = agent.http.put("/v1/query/00000000-0000-4000-8000-000000000000",
                       {"Name": "b", "Service": {"Service": "pg"}})
    assert "Cannot modify non-existent prepared query" in r.text
    assert agent.http.put("/v1/query/a/execute").status == 405


def test_templates_explain_and_dns(agent):
    setup_services(agent)
    r = agent.http.request("POST", "/v1/query", {
        "Name": "geo-", "Template": {"Type": "name_prefix_match", "Regexp": "^geo-(.+)-(.+)$"},
        "Service": {"Service": "${match(1)}", "Tags": ["${match(2)}"]},
        "DNS": {"TTL": "7s"}})
    assert r.status == 200, r
    r = agent.http.get("/v1/query/geo-pg-primary/explain")
    assert r.status == 200
    q = r.json()["Query"]
    assert q["Service"]["Service"] == "pg" and q["Service"]["Tags"] == ["primary"]

    r = ask(agent, "geo-pg-primary.query.consul", "A")
    assert records(r.answer) == [("geo-pg-primary.query.consul.", 7, "A", "10.5.0.1")]
    assert r.flags & dns.flags.AA
    r = ask(agent, "_geo-pg-replica._tcp.query.consul", "SRV")
    assert len(r.answer[0]) == 2
    assert all(t.endswith(".addr.dc1.consul.") for t in texts(r.answer))

    r = ask(agent, "unknown.query.consul", "A")
    assert rcode(r) == "NXDOMAIN" and records(r.authority)[0][2] == "SOA"


def test_near_agent_puts_the_local_node_first(make_agent):
    a = make_agent(name="local")
    a.start()
    a.http.put("/v1/agent/service/register", {"Name": "cache", "Port": 6379})
    for i in range(5):
        a.http.put("/v1/catalog/register", {"Node": f"far-{i}", "Address": f"10.6.0.{i + 1}",
                                            "Service": {"Service": "cache", "Port": 6379}})
    r = a.http.request("POST", "/v1/query", {"Name": "cache", "Service": {"Service": "cache",
                                                                          "Near": "_agent"}})
    assert r.status == 200
    for _ in range(5):
        r = ask(a, "cache.query.consul", "A", edns=4096)
        assert records(r.answer)[0][3] == "127.0.0.1"
        nodes = a.http.get("/v1/query/cache/execute").json()["Nodes"]
        assert nodes[0]["Node"]["Node"] == "local"
