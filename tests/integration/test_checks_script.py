"""Script checks: off unless enabled, exit codes, captured output, timeouts
that kill the whole process group."""
import pathlib

from check_api import checks, wait_check
from harness import wait_for

DISABLED = ("Scripts are disabled on this agent; to enable, configure 'enable_script_checks' "
            "or 'enable_local_script_checks' to true")


def script(tmp_path, name, body):
    p = tmp_path / name
    p.write_text("#!/bin/sh\n" + body)
    p.chmod(0o755)
    return str(p)


def test_script_checks_are_refused_unless_enabled(agent, tmp_path):
    ok = script(tmp_path, "ok.sh", "exit 0\n")
    r = agent.http.put("/v1/agent/check/register", {"Name": "s", "Args": [ok], "Interval": "1s"})
    assert r.status == 400
    assert r.text == DISABLED
    r = agent.http.put("/v1/agent/service/register",
                       {"Name": "svc", "Check": {"Args": [ok], "Interval": "1s"}})
    assert r.status == 400 and "Scripts are disabled" in r.text
    assert checks(agent) == {}


def test_local_script_checks_allow_config_files_only(make_agent, tmp_path):
    ok = script(tmp_path, "ok.sh", "echo from config\n")
    a = make_agent()
    a.write_config("agent.yaml", "enable_local_script_checks: true\n")
    a.write_config("svc.yaml", f"service:\n  name: local\n  check:\n    id: local-script\n"
                               f"    args: [{ok}]\n    interval: 1s\n")
    a.start()
    c = wait_check(a, "local-script", "passing")
    assert c["Output"] == "from config\n"
    r = a.http.put("/v1/agent/check/register", {"Name": "api", "Args": [ok], "Interval": "1s"})
    assert r.status == 400 and r.text == DISABLED


def test_exit_codes_output_and_timeouts(make_agent, tmp_path):
    pidfile = tmp_path / "child.pid"
    scripts = {
        "exit0": script(tmp_path, "exit0.sh", "echo all good\nexit 0\n"),
        "exit1": script(tmp_path, "exit1.sh", "echo degraded >&2\nexit 1\n"),
        "exit2": script(tmp_path, "exit2.sh", "echo broken\nexit 2\n"),
        "exit42": script(tmp_path, "exit42.sh", "echo fatal\nexit 42\n"),
        "chatty": script(tmp_path, "chatty.sh", "head -c 10000 /dev/zero | tr '\\0' a\n"),
        # A child in the background and a parent that never ends: the timeout kills both.
        "hang": script(tmp_path, "hang.sh", f"sleep 300 &\necho $! > {pidfile}\necho started\n"
                                            "wait\n"),
    }
    a = make_agent(extra_args=["-enable-script-checks"])
    a.start()
    for cid, path in scripts.items():
        body = {"Name": cid, "Args": [path], "Interval": "1s"}
        if cid == "hang":
            body["Timeout"] = "500ms"
        r = a.http.put("/v1/agent/check/register", body)
        assert r.status == 200, r
    r = a.http.put("/v1/agent/check/register",
                   {"Name": "shell", "Args": ["/bin/sh", "-c", "test -d / && echo dir"], "Interval": "1s"})
    assert r.status == 200
    r = a.http.put("/v1/agent/check/register",
                   {"Name": "missing", "Args": ["/no/such/program"], "Interval": "1s"})
    assert r.status == 200

    assert wait_check(a, "exit0", "passing")["Output"] == "all good\n"
    assert wait_check(a, "exit1", "warning")["Output"] == "degraded\n"
    assert wait_check(a, "exit2", "critical")["Output"] == "broken\n"
    assert wait_check(a, "exit42", "critical")["Output"] == "fatal\n"
    c = wait_check(a, "chatty", "passing")
    assert c["Output"] == "Captured 4096 of 10000 bytes\n...\n" + "a" * 4096
    wait_check(a, "shell", "passing")
    c = wait_check(a, "missing", "critical")
    assert c["Output"] == "fork/exec /no/such/program: no such file or directory"

    c = wait_check(a, "hang", "critical")
    assert c["Output"] == "Timed out (500ms) running check\n\nstarted\n"
    child = int(pidfile.read_text())

    def dead(pid):
        try:
            state = pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2]
            return state in ("Z", "X")
        except FileNotFoundError:
            return True
    wait_for(lambda: dead(child), 5, "the script's background child to be killed")
