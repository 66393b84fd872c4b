import signal

import pytest

from harness import Daemon


@pytest.fixture
def daemons(tmp_path):
    """Starts daemons for a test and stops them after it, failing on sanitizer reports."""
    started = []

    def start(args, name="daemon", env=None, preexec_fn=None):
        d = Daemon(args, tmp_path / f"{name}-{len(started)}.log", env=env, preexec_fn=preexec_fn)
        started.append(d)
        return d

    yield start
    reports = []
    # SIGTERM everyone first: graceful leaves then overlap instead of queueing.
    for d in started:
        if d.alive():
            d.signal(signal.SIGTERM)
    for d in started:
        d.stop()
        report = d.sanitizer_report()
        if report:
            reports.append(f"{d.args[0]}:\n{report}")
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)


@pytest.fixture
def agent(daemons, tmp_path):
    """A started -dev agent with a data dir; agent.start() again after a kill restarts it."""
    from harness import Agent
    return Agent(daemons, tmp_path).start()


@pytest.fixture
def make_agent(daemons, tmp_path):
    """Builds (not starts) agents with custom options."""
    from harness import Agent

    def make(**kw):
        return Agent(daemons, tmp_path, **kw)
    return make
