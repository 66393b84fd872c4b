"""Config files that expand without bound (YAML alias bombs) or name a key twice.

Every daemon and CLI run here that reads a bomb is memory capped
(harness.memory_capped): a regression then fails fast with an allocation
failure instead of exhausting the machine.
"""
import json
import os
import signal
import subprocess
import time

from harness import SLOW, binary, memory_capped, wait_for
from test_dnsfwd import Fwd, fakes, group  # noqa: F401 (fakes is a fixture)

WEB_YAML = """\
service:
  name: web
  id: web-1
  port: 8080
"""


def alias_bomb() -> str:
    """'Billion laughs': 9 levels of 9 aliases, 9^9 scalars from ~340 bytes.
    "g:" on line 7 is the first entry beyond 1,000,000 values."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def run_capped(args, timeout=30):
    cap, env = memory_capped()
    full_env = dict(os.environ)
    full_env.update(env)
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout * SLOW, preexec_fn=cap, env=full_env)


def start_capped(agent, wait=True):
    cap, env = memory_capped()
    return agent.start(wait=wait, preexec_fn=cap, env=env)


def services(agent):
    return set(agent.http.get("/v1/agent/services").json())


def counter(agent, name):
    for c in agent.http.get("/v1/agent/metrics").json()["Counters"]:
        if c["Name"] == name:
            return c["Count"]
    return 0


# --- the agent ---------------------------------------------------------------

def test_alias_bomb_at_start_exits_quickly_naming_file_and_line(make_agent):
    a = make_agent()
    a.write_config("web.yaml", WEB_YAML)
    a.write_config("bomb.yaml", alias_bomb())
    started = time.monotonic()
    start_capped(a, wait=False)
    code = a.daemon.proc.wait(timeout=20 * SLOW)
    out = a.daemon.output()
    assert code == 1, out  # an error exit, not an abort on bad_alloc
    assert f"{a.config_dir / 'bomb.yaml'}:7: document expands to more than 1000000 values" in out, out
    assert time.monotonic() - started < 10 * SLOW


def test_alias_bomb_on_reload_keeps_the_running_config(make_agent):
    a = make_agent()
    a.write_config("web.yaml", WEB_YAML)
    start_capped(a)
    assert a.http.put("/v1/agent/service/register", {"Name": "from-api", "Port": 1}).status == 200
    assert services(a) == {"web-1", "from-api"}

    a.write_config("bomb.yaml", alias_bomb())
    a.daemon.signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in a.daemon.output(), 10, "the SIGHUP reload to be refused")
    assert a.daemon.alive()
    assert "bomb.yaml:7: document expands to more than" in a.daemon.output()
    assert services(a) == {"web-1", "from-api"}
    assert a.http.get("/v1/catalog/service/web").json()[0]["ServicePort"] == 8080

    r = a.http.put("/v1/agent/reload")
    assert r.status == 500 and "bomb.yaml:7: document expands" in r.text, r.text
    assert a.daemon.alive() and services(a) == {"web-1", "from-api"}
    assert counter(a, "cairn.agent.config_reload_failures") == 2


def test_alias_bomb_in_validate_is_a_clear_error(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    started = time.monotonic()
    p = run_capped([binary("cairn"), "validate", bomb])
    assert p.returncode == 1, p.stderr
    assert f"{bomb}:7: document expands to more than 1000000 values" in p.stderr
    assert time.monotonic() - started < 10 * SLOW
    # A long string repeated through aliases trips the byte bound instead.
    big = tmp_path / "big.yaml"
    big.write_text("a: &s " + "x" * (1 << 20) + "\nb: [" + ",".join(["*s"] * 64) + "]\n")
    p = run_capped([binary("cairn"), "validate", big])
    assert p.returncode == 1, p.stderr
    assert f"{big}:2: document expands to more than 67108864 bytes of text" in p.stderr


def test_duplicate_keys_in_yaml_and_json_configs_are_errors(tmp_path):
    cases = {
        # Two top-level service keys used to register both.
        "dup.yaml": ("service:\n  name: a\n  port: 1\nservice:\n  name: b\n",
                     ':4: duplicate key "service" (first at line 1)'),
        "dup.json": ('{"service": {"name": "a", "port": 1},\n "service": {"name": "b"}}\n',
                     ':2: duplicate key "service" (first at line 1)'),
        "nested.json": ('{"service": {"name": "a",\n  "port": 1,\n  "port": 2}}\n',
                        ':3: duplicate key "port" (first at line 2)'),
        # One field in two of Consul's spellings.
        "spellings.json": ('{"node_name": "a",\n "NodeName": "b"}\n',
                           ':2: NodeName: duplicate field (also given as "node_name")'),
    }
    for name, (text, error) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        p = subprocess.run([binary("cairn"), "validate", path], capture_output=True, text=True,
                           timeout=30 * SLOW)
        assert p.returncode == 1, f"{name}: {p.stdout}{p.stderr}"
        assert f"{path}{error}" in p.stderr, p.stderr


def test_duplicate_key_fails_start_and_services_register(make_agent):
    a = make_agent()
    a.write_config("web.yaml", WEB_YAML)
    start_capped(a)
    dup = a.config_dir.parent / "dup.yaml"
    dup.write_text("service:\n  name: a\nservice:\n  name: b\n")
    r = a.cli("services", "register", dup)
    assert r.returncode == 1 and f'{dup}:3: duplicate key "service"' in r.stderr, r.stderr
    assert services(a) == {"web-1"}  # nothing registered

    a.stop()
    a.write_config("dup.json", json.dumps({"service": {"name": "x"}})[:-1] + ',\n"service": {"name": "y"}}')
    start_capped(a, wait=False)
    code = a.daemon.proc.wait(timeout=20 * SLOW)
    assert code == 1
    assert f'{a.config_dir / "dup.json"}:2: duplicate key "service"' in a.daemon.output()


# --- cairn-dnsfwd ------------------------------------------------------------

def test_dnsfwd_check_and_start_refuse_an_alias_bomb(tmp_path):
    path = tmp_path / "dnsfwd.yaml"
    path.write_text("upstreams: [127.0.0.1:1]\n" + alias_bomb())
    started = time.monotonic()
    r = run_capped([binary("cairn-dnsfwd"), "-check", "-config", path])
    assert r.returncode == 1, r.stderr
    assert f"{path}:8: document expands to more than 1000000 values" in r.stderr
    assert time.monotonic() - started < 10 * SLOW

    r = run_capped([binary("cairn-dnsfwd"), "-config", path, "-log-level", "debug"])
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{path}:8: document expands to more than" in r.stdout + r.stderr


def test_dnsfwd_reload_refuses_an_alias_bomb_and_keeps_answering(daemons, tmp_path, fakes):
    up = fakes()
    cap, env = memory_capped()
    fwd = Fwd(daemons, tmp_path, {"upstreams": group([up.address])}, preexec_fn=cap, env=env)
    assert fwd.q("before.example.com").answer

    fwd.reload(f"listen: [127.0.0.1:{fwd.port}]\nmetrics_addr: 127.0.0.1:{fwd.metrics_port}\n"
               f"upstreams: [{up.address}]\n" + alias_bomb())
    wait_for(lambda: "reload failed" in fwd.log(), 10, "the failed reload to be logged")
    assert "dnsfwd.yaml:10: document expands to more than" in fwd.log()
    assert fwd.daemon.alive()
    assert fwd.q("after.example.com").answer
    assert up.count("after.example.com.") == 1
    assert fwd.metric("cairn_dnsfwd_reload_failures_total") == 1


def test_dnsfwd_duplicate_keys_are_errors(tmp_path):
    path = tmp_path / "dnsfwd.yaml"
    path.write_text("listen: [127.0.0.1:5300]\nupstreams: [192.0.2.53]\nlisten: [127.0.0.1:53]\n")
    r = subprocess.run([binary("cairn-dnsfwd"), "-check", "-config", path],
                       capture_output=True, text=True, timeout=30 * SLOW)
    assert r.returncode == 1
    assert f'{path}:3: duplicate key "listen" (first at line 1)' in r.stderr
    path.write_text('{"listen": ["127.0.0.1:5300"],\n "upstreams": {"servers": ["192.0.2.53"],\n'
                    '  "policy": "sequential",\n  "policy": "random"}}\n')
    r = subprocess.run([binary("cairn-dnsfwd"), "-check", "-config", path],
                       capture_output=True, text=True, timeout=30 * SLOW)
    assert r.returncode == 1
    assert f'{path}:4: duplicate key "policy" (first at line 3)' in r.stderr
