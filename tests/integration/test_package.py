"""The Debian packages as a user meets them (issue 8).

Builds cairn_*.deb and cairn-server_*.deb with packaging/build-deb.sh. The
cairn-server package's control fields and maintainer scripts are checked
without installing it (it would pull etcd-server onto this machine): the
scripts run against a scratch root (DPKG_ROOT) holding etcd-server's
etcd.service, as dpkg runs them with --root. cairn_*.deb is installed with dpkg on this
machine, checks files, the `cairn` user and permissions, then starts both
daemons as their systemd units would (same user, same flags, same
capabilities; CI has no systemd) inside a network namespace this test creates,
so that the forwarder can own 127.0.0.1:53 and the agent its default ports
without touching the host. In that namespace /etc/resolv.conf says
"nameserver 127.0.0.1" (ip-netns bind-mounts /etc/netns/<ns>/resolv.conf), so
getent and host resolve through cairn-dnsfwd exactly as on a set-up host.
Then an upgrade to a rebuilt package must keep conffiles, the data dir and
every service, and a purge must remove everything the package created.

Needs root and dpkg; skipped in the sanitizer pass (the package is a normal
build) and when a cairn package is already installed on the machine.
"""
import hashlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from harness import ROOT, SLOW, binary, wait_for

NS = "cairn-pkgtest"
UPSTREAM = "127.0.0.2"  # a dnsmasq in the namespace plays the site's resolver


def run(*args, check=True, timeout=120, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout * SLOW, **kw)
    if check:
        assert r.returncode == 0, f"{' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r


def in_ns(*args, **kw):
    return run("ip", "netns", "exec", NS, *args, **kw)


def installed_version():
    r = run("dpkg-query", "-W", "-f=${Status} ${Version}", "cairn", check=False)
    if r.returncode != 0 or "install ok installed" not in r.stdout:
        return None
    return r.stdout.split()[-1]


def unit_exec_start(unit):
    """ExecStart= of an installed unit, split as systemd would (no quoting used)."""
    text = pathlib.Path(f"/lib/systemd/system/{unit}").read_text()
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            settings[k.strip()] = v.strip()
    return settings


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="installs a package: needs root"),
    pytest.mark.skipif(os.environ.get("CAIRN_SANITIZED") == "1",
                       reason="the package is a normal build; tested once"),
    pytest.mark.skipif(shutil.which("dpkg-buildpackage") is None and shutil.which("dpkg") is None,
                       reason="not a Debian system"),
]


class Notify:
    """A NOTIFY_SOCKET, as systemd gives Type=notify services."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)  # the daemons run as cairn
        self.sock.settimeout(0.2)
        self.messages = []

    def wait_ready(self, count, what):
        def ready():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
            return sum("READY=1" in m for m in self.messages) >= count
        wait_for(ready, 20, f"{what} to notify READY=1", interval=0)

    def close(self):
        self.sock.close()


class Host:
    """The network namespace and the daemons started in it as the units would."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.procs = {}
        self.notify = Notify(scratch)
        self.ready = 0
        run("ip", "netns", "add", NS)
        in_ns("ip", "link", "set", "lo", "up")
        etc = pathlib.Path("/etc/netns") / NS
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text("nameserver 127.0.0.1\n")

    def start_upstream(self):
        # The site resolver the forwarder sends everything but *.consul to.
        self.procs["upstream"] = subprocess.Popen(
            ["ip", "netns", "exec", NS, "dnsmasq", "--keep-in-foreground", "--no-resolv",
             "--no-hosts", "--conf-file=/dev/null", f"--listen-address={UPSTREAM}",
             "--bind-interfaces", "--port=53", "--address=/example.test/192.0.2.7",
             f"--pid-file={self.scratch}/dnsmasq.pid"],
            stdout=subprocess.DEVNULL, stderr=open(f"{self.scratch}/dnsmasq.log", "ab"))
        wait_for(lambda: in_ns("dig", f"@{UPSTREAM}", "+short", "+time=1", "+tries=1",
                               "www.example.test", check=False).stdout.strip() == "192.0.2.7",
                 10, "the upstream dnsmasq to answer")

    def start_unit(self, unit, name):
        """The unit's ExecStart as its User=, with its capabilities, NoNewPrivileges and UMask."""
        s = unit_exec_start(unit)

        def caps(key):
            names = s.get(key, "").lower().replace("cap_", "").split()
            return ",".join(["-all"] + [f"+{c}" for c in names])
        priv = ["setpriv", f"--reuid={s['User']}", f"--regid={s['Group']}", "--init-groups",
                f"--inh-caps={caps('AmbientCapabilities')}",
                f"--ambient-caps={caps('AmbientCapabilities')}",
                f"--bounding-set={caps('CapabilityBoundingSet')}"]
        if s.get("NoNewPrivileges") == "yes":
            priv.append("--no-new-privs")
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        umask = int(s.get("UMask", "0022"), 8)
        log = open(f"{self.scratch}/{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            ["ip", "netns", "exec", NS] + priv + ["--"] + s["ExecStart"].split(),
            stdout=log, stderr=subprocess.STDOUT, env=env, umask=umask, cwd="/")
        self.ready += 1
        self.notify.wait_ready(self.ready, unit)
        assert self.procs[name].poll() is None, self.log(name)

    def start_daemons(self):
        self.start_unit("cairn.service", "agent")
        self.start_unit("cairn-dnsfwd.service", "dnsfwd")

    def log(self, name):
        p = pathlib.Path(f"{self.scratch}/{name}.log")
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)  # what `systemctl stop` sends
            try:
                p.wait(timeout=30 * SLOW)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def stop_daemons(self):
        codes = {n: self.stop(n) for n in ("dnsfwd", "agent")}
        assert codes == {"dnsfwd": 0, "agent": 0}, (codes, self.log("agent"), self.log("dnsfwd"))

    def close(self):
        for name in list(self.procs):
            self.stop(name)
        self.notify.close()
        run("ip", "netns", "del", NS, check=False)
        shutil.rmtree(pathlib.Path("/etc/netns") / NS, ignore_errors=True)

    def api(self, path, method="GET", body=None):
        args = ["curl", "-sS", "-f", "-X", method, f"http://127.0.0.1:8500{path}"]
        if body is not None:
            args += ["--data", json.dumps(body)]
        return in_ns(*args).stdout

    def resolves(self, name, address):
        r = in_ns("getent", "hosts", name, check=False)
        return r.returncode == 0 and r.stdout.split()[0] == address


def can_make_network_namespaces():
    probe = NS + "-probe"
    if run("ip", "netns", "add", probe, check=False).returncode != 0:
        return False
    run("ip", "netns", "del", probe, check=False)
    return True


@pytest.fixture(scope="module")
def built():
    """Both packages of one packaging/build-deb.sh run, by package name."""
    r = run("bash", ROOT / "packaging" / "build-deb.sh", timeout=2400)
    packages = {}
    for name in ("cairn", "cairn-server"):
        found = sorted((ROOT / "build-deb").glob(f"{name}_*.deb"))
        assert len(found) == 1, (name, r.stdout)
        packages[name] = found[0]
    return packages


@pytest.fixture(scope="module")
def debs(built):
    """cairn_*.deb, for the tests that install it on this machine."""
    if installed_version() is not None:
        pytest.skip("a cairn package is installed on this machine; not replacing it")
    if not can_make_network_namespaces():
        pytest.skip("cannot create network namespaces here (needs CAP_SYS_ADMIN)")
    return built["cairn"]


def control_fields(deb):
    """The control paragraph of a .deb as a dict."""
    fields, last = {}, None
    for line in run("dpkg-deb", "-f", deb).stdout.splitlines():
        if line[:1] in (" ", "\t") and last:
            fields[last] += "\n" + line
        elif ":" in line:
            last, value = line.split(":", 1)
            fields[last] = value.strip()
    return fields


def relations(field):
    """Package names of a Depends-style field (alternatives flattened)."""
    return {alt.split("(")[0].split(":")[0].strip()
            for rel in field.split(",") for alt in rel.split("|") if alt.strip()}


def rebuilt_package(deb, scratch):
    """The same build as the next version: the upgrade path users take."""
    tree = pathlib.Path(scratch) / "repack"
    run("dpkg-deb", "-R", deb, tree)
    control = tree / "DEBIAN" / "control"
    text = control.read_text()
    old = next(l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("Version:"))
    new = old + "+rebuild1"
    control.write_text(text.replace(f"Version: {old}", f"Version: {new}"))
    out = pathlib.Path(scratch) / f"cairn_{new}.deb"
    run("dpkg-deb", "--root-owner-group", "-b", tree, out)
    return out, new


def test_lintian_is_clean(built):
    # Never skipped: `packaging/install-deps.sh test` (tests/all.sh) installs lintian.
    assert shutil.which("lintian"), "lintian is missing: run bash packaging/install-deps.sh test"
    # Remaining tags are overridden, each with its reason, in debian/<package>.lintian-overrides.
    r = run("lintian", "--fail-on", "error,warning", built["cairn"], built["cairn-server"],
            check=False, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


def test_only_cairn_server_brings_etcd(built):
    """Client hosts get no etcd: only cairn-server depends on etcd-server."""
    cairn = control_fields(built["cairn"])
    server = control_fields(built["cairn-server"])
    for field in ("Pre-Depends", "Depends", "Recommends"):
        assert not any(p.startswith("etcd") for p in relations(cairn.get(field, ""))), \
            f"cairn {field}: {cairn.get(field)}"
    assert "cairn-server" in relations(cairn.get("Suggests", "")), cairn
    depends = server["Depends"]
    assert "etcd-server" in relations(depends), depends
    # The server role is for exactly this build of the agent.
    assert f"cairn (= {cairn['Version']})" in [d.strip() for d in depends.split(",")], depends
    assert server["Version"] == cairn["Version"]
    assert server["Architecture"] == cairn["Architecture"]


def test_cairn_server_ships_only_docs_and_a_valid_example(built, tmp_path):
    listing = run("dpkg-deb", "-c", built["cairn-server"]).stdout
    files = [l.split()[-1] for l in listing.splitlines() if not l.startswith("d")]
    # No conffile, no unit, no binary: the agent's own config and unit are cairn's.
    assert all(f.startswith(("./usr/share/doc/cairn-server/", "./usr/share/lintian/"))
               for f in files), files
    run("dpkg-deb", "-x", built["cairn-server"], tmp_path)
    example = tmp_path / "usr/share/doc/cairn-server/examples/server.yaml"
    text = example.read_text()
    assert "server: true" in text and "etcd_peer: 8380" in text
    r = run(binary("cairn"), "validate", example, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


ETCD_UNIT = """[Unit]
Description=etcd - highly-available key value store

[Service]
ExecStart=/usr/bin/etcd

[Install]
WantedBy=multi-user.target
Alias=etcd2.service
"""


class ScratchRoot:
    """A root with etcd-server's etcd.service, on which maintainer scripts run
    as dpkg --root runs them (DPKG_ROOT): deb-systemd-helper, and the scripts,
    work on files under it and touch no service manager."""

    def __init__(self, path, scripts):
        self.path = path
        self.scripts = scripts
        units = path / "lib/systemd/system"
        units.mkdir(parents=True)
        (units / "etcd.service").write_text(ETCD_UNIT)
        self.mask = path / "etc/systemd/system/etcd.service"

    def env(self, package):
        return dict(os.environ, DPKG_ROOT=str(self.path), DPKG_MAINTSCRIPT_PACKAGE=package,
                    DPKG_MAINTSCRIPT_NAME="postinst")

    def helper(self, *args, check=True):
        """deb-systemd-helper as etcd-server's own maintainer scripts call it."""
        return run("deb-systemd-helper", *args, env=self.env("etcd-server"), check=check)

    def script(self, name, *args):
        return run(self.scripts / name, *args, env=self.env("cairn-server"))

    def enabled(self):
        return (self.path / "etc/systemd/system/multi-user.target.wants/etcd.service").is_symlink()

    def masked(self):
        return self.mask.is_symlink() and os.readlink(self.mask) == "/dev/null"


@pytest.fixture
def server_scripts(built, tmp_path):
    scripts = tmp_path / "DEBIAN"
    run("dpkg-deb", "-e", built["cairn-server"], scripts)
    return scripts


def test_cairn_server_stops_disables_and_masks_etcd_service(server_scripts, tmp_path):
    root = ScratchRoot(tmp_path / "root", server_scripts)
    # etcd-server's postinst: enabled on install.
    root.helper("enable", "etcd.service")
    assert root.enabled()

    root.script("postinst", "configure", "")
    assert not root.enabled(), "etcd.service still enabled"
    assert root.masked(), "etcd.service not masked"
    assert root.helper("--quiet", "was-enabled", "etcd.service", check=False).returncode != 0

    # An upgrade of etcd-server: its postinst unmasks what deb-systemd-helper
    # masked, then enables the unit only if it was enabled. Neither happens.
    root.helper("unmask", "etcd.service")
    if root.helper("--quiet", "was-enabled", "etcd.service", check=False).returncode == 0:
        root.helper("enable", "etcd.service")
    root.helper("update-state", "etcd.service")
    assert root.masked() and not root.enabled()

    # An upgrade of cairn-server changes nothing.
    root.script("postinst", "configure", "0.0.1")
    assert root.masked() and not root.enabled()

    # Removal lifts the mask it made; etcd.service stays disabled. Purge after it is quiet.
    root.script("postrm", "remove")
    assert not root.mask.exists() and not root.mask.is_symlink()
    assert not root.enabled()
    assert not (root.path / "var/lib/cairn-server").exists()
    root.script("postrm", "purge")


def test_cairn_server_leaves_the_administrators_mask_and_unit_alone(server_scripts, tmp_path):
    # The administrator had masked etcd.service: removing cairn-server keeps it masked.
    root = ScratchRoot(tmp_path / "masked", server_scripts)
    root.mask.parent.mkdir(parents=True)
    root.mask.symlink_to("/dev/null")
    root.script("postinst", "configure", "")
    root.script("postrm", "remove")
    assert root.masked(), "the administrator's mask was removed"

    # The administrator's own etcd.service in /etc: disabled, left in place, said so.
    root = ScratchRoot(tmp_path / "own", server_scripts)
    root.helper("enable", "etcd.service")
    root.mask.parent.mkdir(parents=True, exist_ok=True)
    root.mask.write_text(ETCD_UNIT)
    r = root.script("postinst", "configure", "")
    assert "not masked" in r.stderr, r.stderr
    assert root.mask.read_text() == ETCD_UNIT
    root.script("postrm", "purge")
    assert root.mask.read_text() == ETCD_UNIT


def test_install_run_upgrade_purge(debs):
    resolv_before = sha256("/etc/resolv.conf")
    scratch = tempfile.mkdtemp(prefix="cairn-pkg-")
    os.chmod(scratch, 0o755)
    host = None
    try:
        # Install.
        run("dpkg", "-i", debs)
        assert installed_version() is not None
        assert sha256("/etc/resolv.conf") == resolv_before, "installing must not edit resolv.conf"

        # Files, user, permissions.
        for path in ("/usr/bin/cairn", "/usr/bin/cairn-dnsfwd"):
            st = os.stat(path)
            assert st.st_uid == 0 and st.st_mode & 0o777 == 0o755, path
        for path in ("/lib/systemd/system/cairn.service", "/lib/systemd/system/cairn-dnsfwd.service",
                     "/etc/cairn/cairn.yaml", "/etc/cairn/dnsfwd.yaml",
                     "/etc/cairn/services.d/example.yaml",
                     "/usr/share/man/man1/cairn.1.gz", "/usr/share/man/man8/cairn-dnsfwd.8.gz",
                     "/usr/share/bash-completion/completions/cairn"):
            assert os.path.isfile(path), f"{path} not installed"
        conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "cairn").stdout
        for path in ("/etc/cairn/cairn.yaml", "/etc/cairn/dnsfwd.yaml",
                     "/etc/cairn/services.d/example.yaml"):
            assert path in conffiles, f"{path} is not a conffile:\n{conffiles}"
        user = run("getent", "passwd", "cairn").stdout.strip().split(":")
        assert int(user[2]) < 1000, f"cairn is not a system user: {user}"
        assert user[6] in ("/usr/sbin/nologin", "/bin/false"), user
        st = os.stat("/var/lib/cairn")
        assert (st.st_uid, st.st_gid) == (int(user[2]), int(user[3])) and st.st_mode & 0o777 == 0o750
        run("cairn", "validate", "/etc/cairn/cairn.yaml", "/etc/cairn/services.d")
        run("cairn-dnsfwd", "-check", "-config", "/etc/cairn/dnsfwd.yaml")
        if shutil.which("systemd-analyze"):
            r = run("systemd-analyze", "verify", "/lib/systemd/system/cairn.service",
                    "/lib/systemd/system/cairn-dnsfwd.service", check=False)
            assert r.returncode == 0, r.stdout + r.stderr

        # Set the host up as README says: a bind address (this namespace has
        # only loopback), the site's resolver in resolv.upstream (what
        # `cairn-dnsfwd setup-resolv` saves), a service in services.d.
        # One host is a one-server datacenter: a client agent alone has no catalog (it
        # forwards to servers, as Consul's do), and the server runs etcd from etcd-server.
        with open("/etc/cairn/cairn.yaml", "a") as f:
            f.write("\n# Added by the package test.\nbind_addr: 127.0.0.1\n"
                    "server: true\nbootstrap_expect: 1\n")
        pathlib.Path("/etc/cairn/resolv.upstream").write_text(f"nameserver {UPSTREAM}\n")
        pathlib.Path("/etc/cairn/services.d/web.yaml").write_text(
            "service:\n  name: web\n  port: 8080\n  tags: [v1]\n"
            "  check:\n    http: http://127.0.0.1:8500/v1/status/leader\n    interval: 1s\n")

        host = Host(scratch)
        host.start_upstream()
        host.start_daemons()

        wait_for(lambda: '"passing"' in host.api("/v1/health/checks/web"), 20,
                 "the web service's check to pass")
        wait_for(lambda: host.resolves("web.service.consul", "127.0.0.1"), 20,
                 "web.service.consul through the forwarder on 127.0.0.1:53")
        srv = in_ns("host", "-t", "SRV", "web.service.consul").stdout
        assert "8080" in srv, srv
        assert host.resolves("www.example.test", "192.0.2.7"), "non-consul names go upstream"

        status = in_ns("cairn", "status", check=False)
        assert status.returncode == 0, status.stdout + status.stderr
        for text in ("web", "passing", "forwarder", UPSTREAM):
            assert text in status.stdout, f"{text!r} not in cairn status:\n{status.stdout}"
        doc = json.loads(in_ns("cairn", "status", "-json").stdout)
        assert "web" in json.dumps(doc)

        # A service registered over the API, persisted in the data dir.
        host.api("/v1/agent/service/register", "PUT", {"Name": "api", "Port": 9000})
        node_id = pathlib.Path("/var/lib/cairn/node-id").read_text()

        # Upgrade: systemd would stop the units, dpkg replaces the files.
        host.stop_daemons()
        newer, version = rebuilt_package(debs, scratch)
        run("dpkg", "-i", newer)
        assert installed_version() == version
        assert "bind_addr: 127.0.0.1" in pathlib.Path("/etc/cairn/cairn.yaml").read_text(), \
            "the upgrade replaced an edited conffile"
        assert pathlib.Path("/etc/cairn/services.d/web.yaml").exists()
        assert pathlib.Path("/var/lib/cairn/node-id").read_text() == node_id
        host.start_daemons()
        services = json.loads(host.api("/v1/agent/services"))
        assert {"web", "api"} <= set(services), services
        wait_for(lambda: host.resolves("web.service.consul", "127.0.0.1"), 20,
                 "web.service.consul after the upgrade")
        wait_for(lambda: host.resolves("api.service.consul", "127.0.0.1"), 20,
                 "the API-registered service after the upgrade")

        # Purge removes everything the package created; the user's own
        # service file stays, as dpkg leaves files it does not own.
        host.stop_daemons()
        run("dpkg", "--purge", "cairn")
        assert installed_version() is None
        for path in ("/usr/bin/cairn", "/usr/bin/cairn-dnsfwd", "/var/lib/cairn",
                     "/lib/systemd/system/cairn.service", "/lib/systemd/system/cairn-dnsfwd.service",
                     "/usr/share/man/man1/cairn.1.gz"):
            assert not os.path.exists(path), f"{path} left after purge"
        left = sorted(str(p) for p in pathlib.Path("/etc/cairn").rglob("*") if p.is_file())
        assert left == ["/etc/cairn/services.d/web.yaml"], left
        shutil.rmtree("/etc/cairn")
        assert run("getent", "passwd", "cairn", check=False).returncode != 0, "user cairn left"
        assert run("getent", "group", "cairn", check=False).returncode != 0, "group cairn left"
        assert sha256("/etc/resolv.conf") == resolv_before
    finally:
        if host:
            host.close()
        if installed_version() is not None:
            run("dpkg", "--purge", "cairn", check=False)
            shutil.rmtree("/etc/cairn", ignore_errors=True)  # our web.yaml, if the purge ran here
        shutil.rmtree(scratch, ignore_errors=True)
