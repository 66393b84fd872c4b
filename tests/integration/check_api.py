"""Reading and registering checks through the agent's API, for the check tests."""
from harness import wait_for


def checks(agent):
    return agent.http.get("/v1/agent/checks").json()


def register_check(agent, body):
    r = agent.http.put("/v1/agent/check/register", body)
    assert r.status == 200, r
    return r


def wait_check(agent, check_id, status, timeout=6, contains=None):
    """Waits until the check has status and a real result: registered checks
    start critical with no output, so an empty output does not count."""
    def ok():
        c = checks(agent).get(check_id)
        return (c and c["Status"] == status and c["Output"]
                and (contains is None or contains in c["Output"]) and c)
    return wait_for(ok, timeout, f"{check_id} to be {status}"
                    + (f" with output containing {contains!r}" if contains else ""))
