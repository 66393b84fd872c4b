"""KV, sessions, locks, semaphores, transactions and the kv/lock/watch CLI, against the real agent."""
import base64
import json
import os
import subprocess
import threading
import time

import pytest

from harness import SLOW, Http, binary, wait_for


@pytest.fixture
def kv_agent(make_agent):
    a = make_agent()
    # Short session TTLs keep lock-expiry tests quick (Consul's session_ttl_min).
    a.write_config("sessions.yaml", "session_ttl_min: 1s\nlimits:\n  http_max_conns_per_client: 1000\n")
    return a.start()


def put(agent, key, value, params=""):
    return agent.http.request("PUT", f"/v1/kv/{key}{params}", body=value)


def test_kv_basics_and_kvpair_shape(kv_agent):
    a = kv_agent
    assert put(a, "app/config", "hello").text == "true"
    r = a.http.get("/v1/kv/app/config")
    assert r.status == 200
    pair = r.json()[0]
    assert list(pair) == ["LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"]
    assert base64.b64decode(pair["Value"]) == b"hello"
    assert r.headers["x-consul-index"] == str(pair["ModifyIndex"])
    assert a.http.get("/v1/kv/app/config?raw").body == b"hello"
    raw = a.http.get("/v1/kv/app/config?raw")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert put(a, "app/flags", "", "?flags=42").text == "true"
    flags = a.http.get("/v1/kv/app/flags").json()[0]
    assert flags["Flags"] == 42 and flags["Value"] is None
    missing = a.http.get("/v1/kv/nope")
    assert missing.status == 404 and missing.body == b"" and int(missing.headers["x-consul-index"]) >= 1
    assert a.http.get("/v1/kv/?keys&separator=/").json() == ["app/"]
    assert [p["Key"] for p in a.http.get("/v1/kv/app?recurse").json()] == ["app/config", "app/flags"]
    assert a.http.request("DELETE", "/v1/kv/app?recurse").text == "true"
    assert a.http.get("/v1/kv/app?recurse").status == 404


def test_kv_bad_input(kv_agent):
    a = kv_agent
    assert a.http.request("PUT", "/v1/kv/", body="x").status == 400
    r = put(a, "k", "x", "?cas=1&acquire=abc")
    assert r.status == 400 and r.text.startswith("Conflicting flags")
    r = a.http.request("PUT", "/v1/kv/big", body="x" * (512 * 1024 + 1))
    assert r.status == 413 and "too large" in r.text
    assert a.http.get("/v1/kv/big").status == 404
    r = a.http.request("PUT", "/v1/kv/%2Fslash", body="x")
    assert r.status == 400
    r = a.http.request("PUT", "/v1/kv/a/../b", body="x")
    assert r.status == 400
    r = a.http.request("PUT", "/v1/kv/bad%FFutf8", body="x")
    assert r.status == 400
    # cas on a missing key with a non-zero index is false, not an error.
    assert put(a, "missing", "x", "?cas=5").text == "false"
    r = put(a, "k", "x", "?acquire=00000000-0000-4000-8000-000000000000")
    assert r.status == 500 and "invalid session" in r.text


def test_txn(kv_agent):
    a = kv_agent
    b64 = lambda s: base64.b64encode(s.encode()).decode()
    ok = a.http.put("/v1/txn", [{"KV": {"Verb": "set", "Key": "t/a", "Value": b64("1")}},
                                 {"KV": {"Verb": "set", "Key": "t/b", "Value": b64("2")}},
                                 {"KV": {"Verb": "get-tree", "Key": "t/"}}])
    assert ok.status == 200, ok
    body = ok.json()
    assert body["Errors"] is None
    assert [r["KV"]["Key"] for r in body["Results"]] == ["t/a", "t/b", "t/a", "t/b"]
    idx = a.http.get("/v1/kv/t/a").json()[0]["ModifyIndex"]
    bad = a.http.put("/v1/txn", [{"KV": {"Verb": "set", "Key": "t/c", "Value": b64("3")}},
                                  {"KV": {"Verb": "cas", "Key": "t/a", "Value": b64("x"), "Index": idx + 100}}])
    assert bad.status == 409
    assert bad.json()["Errors"][0]["OpIndex"] == 1
    assert a.http.get("/v1/kv/t/c").status == 404, "a rolled-back txn left a write behind"
    r = a.http.put("/v1/txn", [{"KV": {"Verb": "set", "Key": "x", "Value": "not base64!"}}])
    assert r.status == 400 and "Failed to parse body" in r.text
    r = a.http.put("/v1/txn", [{"KV": {"Verb": "get", "Key": "x"}}] * 129)
    assert r.status == 413 and "too many operations" in r.text
    r = a.http.put("/v1/txn", [{"KV": {"Verb": "frob", "Key": "x"}}])
    assert r.status == 400 and "frob" in r.text


def test_cas_races_never_lose_updates(kv_agent):
    a = kv_agent
    put(a, "counter", "0")
    clients, per_client = 8, 15

    def worker():
        c = Http("127.0.0.1", a.port)
        done = 0
        while done < per_client:
            pair = c.get("/v1/kv/counter").json()[0]
            n = int(base64.b64decode(pair["Value"]))
            r = c.request("PUT", f"/v1/kv/counter?cas={pair['ModifyIndex']}", body=str(n + 1))
            if r.text == "true":
                done += 1
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60 * SLOW)
    final = int(base64.b64decode(a.http.get("/v1/kv/counter").json()[0]["Value"]))
    assert final == clients * per_client


def test_session_lock_release_and_lock_delay(kv_agent):
    a = kv_agent
    s1 = a.http.put("/v1/session/create", {"Name": "one", "LockDelay": "1s"}).json()["ID"]
    s2 = a.http.put("/v1/session/create", {"Name": "two"}).json()["ID"]
    assert put(a, "leader", "one", f"?acquire={s1}").text == "true"
    assert put(a, "leader", "two", f"?acquire={s2}").text == "false"
    info = a.http.get(f"/v1/session/info/{s1}").json()
    assert info[0]["Name"] == "one" and info[0]["LockDelay"] == 1_000_000_000
    assert info[0]["NodeChecks"] == ["serfHealth"]
    assert len(a.http.get("/v1/session/list").json()) == 2
    assert a.http.put(f"/v1/session/destroy/{s1}").text == "true"
    pair = a.http.get("/v1/kv/leader").json()[0]
    assert "Session" not in pair and pair["LockIndex"] == 1
    # Lock-delay: refused at once, accepted after the 1 s delay.
    assert put(a, "leader", "two", f"?acquire={s2}").text == "false"
    wait_for(lambda: put(a, "leader", "two", f"?acquire={s2}").text == "true", 5,
             "lock-delay to pass")
    assert a.http.get("/v1/kv/leader").json()[0]["LockIndex"] == 2
    assert a.http.put("/v1/session/renew/00000000-0000-4000-8000-000000000000").status == 404
    assert a.http.put("/v1/session/create", {"TTL": "100h"}).status == 400
    assert a.http.put("/v1/session/create", {"Behavior": "explode"}).status == 400


def test_session_ttl_expiry_and_delete_behavior(kv_agent):
    a = kv_agent
    s = a.http.put("/v1/session/create", {"TTL": "1s", "Behavior": "delete", "LockDelay": "0s"}).json()["ID"]
    assert put(a, "ephemeral", "x", f"?acquire={s}").text == "true"
    start = time.monotonic()
    wait_for(lambda: a.http.get("/v1/kv/ephemeral").status == 404, 10, "the TTL to delete the key")
    assert time.monotonic() - start >= 1.0
    assert a.http.get(f"/v1/session/info/{s}").json() == []


def test_prefix_blocking_query_wakes_on_put_and_delete(kv_agent):
    a = kv_agent
    put(a, "cfg/a", "1")
    for action in ("put", "delete"):
        index = a.http.get("/v1/kv/cfg/?recurse").headers["x-consul-index"]
        got = {}

        def block():
            c = Http("127.0.0.1", a.port, timeout=30)
            got["r"] = c.get(f"/v1/kv/cfg/?recurse&index={index}&wait=20s")
            c.close()

        t = threading.Thread(target=block)
        t.start()
        a.wait_parked()
        assert "r" not in got
        put(a, "unrelated", "x")  # must not wake it
        time.sleep(0.2 * SLOW)
        assert "r" not in got, "a write outside the prefix woke the query"
        if action == "put":
            put(a, "cfg/b", "2")
        else:
            a.http.request("DELETE", "/v1/kv/cfg/b")
        t.join(timeout=10 * SLOW)
        assert not t.is_alive(), f"prefix query did not wake on {action}"
        assert int(got["r"].headers["x-consul-index"]) > int(index)


def test_cli_kv_export_import_roundtrip(kv_agent, tmp_path):
    a = kv_agent
    for key, value in (("tree/a", "1"), ("tree/b/c", "two"), ("tree/d", "")):
        r = a.cli("kv", "put", key, value)
        assert r.returncode == 0 and "Success! Data written to" in r.stdout, r.stderr
    assert a.cli("kv", "get", "tree/b/c").stdout == "two\n"
    assert a.cli("kv", "get", "-keys", "tree/").stdout.split() == ["tree/a", "tree/b/", "tree/d"]
    exported = a.cli("kv", "export", "tree/", check=True).stdout
    data = json.loads(exported)
    assert [e["key"] for e in data] == ["tree/a", "tree/b/c", "tree/d"]
    assert a.cli("kv", "delete", "-recurse", "tree/").returncode == 0
    assert a.cli("kv", "get", "tree/a").returncode == 1
    f = tmp_path / "export.json"
    f.write_text(exported)
    r = a.cli("kv", "import", f"@{f}")
    assert r.returncode == 0, r.stderr
    assert json.loads(a.cli("kv", "export", "tree/").stdout) == data
    r = a.cli("kv", "put", "-cas", "-modify-index", "1", "tree/a", "x")
    assert r.returncode == 1 and "CAS failed" in r.stderr


def test_cli_lock_never_overlaps_and_counts_exactly(kv_agent, tmp_path):
    a = kv_agent
    counter = tmp_path / "counter"
    counter.write_text("0")
    inside = tmp_path / "inside"
    # Each holder checks nobody else is inside, then increments the counter.
    script = (f'test ! -e {inside} || echo OVERLAP >> {tmp_path}/overlap; touch {inside}; '
              f'n=$(cat {counter}); sleep 0.02; echo $((n+1)) > {counter}; rm -f {inside}')
    env = dict(os.environ, CAIRN_HTTP_ADDR=f"127.0.0.1:{a.port}")
    procs = [subprocess.Popen([binary("cairn"), "lock", "-session-ttl", "10s", "-lock-delay", "0s",
                               "jobs/counter", script], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(20)]
    for p in procs:
        out, err = p.communicate(timeout=120 * SLOW)
        assert p.returncode == 0, err
    assert not (tmp_path / "overlap").exists(), "two lock holders ran at once"
    assert counter.read_text().strip() == "20"


def test_cli_semaphore_limit(kv_agent, tmp_path):
    a = kv_agent
    env = dict(os.environ, CAIRN_HTTP_ADDR=f"127.0.0.1:{a.port}")
    log = tmp_path / "holders"
    script = (f'echo in >> {log}; c=$(grep -c in {log}); o=$(grep -c out {log} || true); '
              f'echo $((c-o)) >> {tmp_path}/max; sleep 0.3; echo out >> {log}')
    procs = [subprocess.Popen([binary("cairn"), "lock", "-n", "3", "-session-ttl", "10s",
                               "-lock-delay", "0s", "jobs/sem", script], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    for p in procs:
        _, err = p.communicate(timeout=120 * SLOW)
        assert p.returncode == 0, err
    concurrent = [int(x) for x in (tmp_path / "max").read_text().split()]
    assert len(concurrent) == 8
    assert max(concurrent) <= 3, f"more than 3 holders at once: {concurrent}"
    assert max(concurrent) >= 2, "the semaphore never let more than one holder in"


def test_kill9_holder_frees_lock_after_ttl_and_delay_not_before(kv_agent, tmp_path):
    a = kv_agent
    env = dict(os.environ, CAIRN_HTTP_ADDR=f"127.0.0.1:{a.port}")
    holder = subprocess.Popen([binary("cairn"), "lock", "-session-ttl", "1s", "-lock-delay", "1s",
                               "jobs/k9", "sleep 60"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: a.http.get("/v1/kv/jobs/k9/.lock").status == 200 and
             "Session" in a.http.get("/v1/kv/jobs/k9/.lock").json()[0], 10, "the lock to be held")
    killed = time.monotonic()
    os.killpg(holder.pid, 9)
    holder.wait()
    second = subprocess.run([binary("cairn"), "lock", "-timeout", "20s", "jobs/k9", "true"], env=env,
                            capture_output=True, text=True, timeout=60 * SLOW)
    waited = time.monotonic() - killed
    assert second.returncode == 0, second.stderr
    # TTL 1 s is reaped at 2 x TTL, then 1 s of lock-delay.
    assert waited >= 2.5, f"lock was free after {waited:.1f}s, before TTL expiry and lock-delay"


def test_cli_watch_runs_handler_on_change(kv_agent, tmp_path):
    a = kv_agent
    put(a, "watched", "v1")
    out = tmp_path / "seen"
    env = dict(os.environ, CAIRN_HTTP_ADDR=f"127.0.0.1:{a.port}")
    w = subprocess.Popen([binary("cairn"), "watch", "-type", "key", "-key", "watched",
                          f"cat >> {out}; echo >> {out}"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: out.exists() and "djE=" in out.read_text(), 10, "the first handler run")
        put(a, "watched", "v2")
        wait_for(lambda: "djI=" in out.read_text(), 10, "the handler run after the change")
        runs = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
        assert [base64.b64decode(r[0]["Value"]) for r in runs] == [b"v1", b"v2"]
    finally:
        w.kill()
        w.wait()
    # Without a handler: print once and exit.
    r = a.cli("watch", "-type", "keyprefix", "-prefix", "watch")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["Key"] == "watched"
