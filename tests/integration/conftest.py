import pytest

from harness import Daemon


@pytest.fixture
def daemons(tmp_path):
    """Starts daemons for a test and stops them after it, failing on sanitizer reports."""
    started = []

    def start(args, name="daemon", env=None):
        d = Daemon(args, tmp_path / f"{name}-{len(started)}.log", env=env)
        started.append(d)
        return d

    yield start
    reports = []
    for d in started:
        d.stop()
        report = d.sanitizer_report()
        if report:
            reports.append(f"{d.args[0]}:\n{report}")
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)
