"""A private network of Linux network namespaces for tests that need a real partition.

One namespace holds a bridge; every host namespace is joined to it by a veth pair and gets
an address from a private /24 that exists only inside these namespaces. No namespace has a
route beyond that /24, and nothing is created in the host's own namespace, so no test
traffic can reach (or come from) the host's network.

A host is partitioned by taking down its veth end on the bridge side: its own interface
stays up with its address, but everything it sends is dropped silently, like a cut cable
(connections hang instead of failing fast).

The test process talks to a daemon inside a namespace through sockets created in that
namespace (setns on the calling thread, only while the socket is made): a socket keeps the
namespace it was created in, so the test itself never leaves its own."""
import ctypes
import http.client
import os
import socket
import subprocess

from harness import Http, wait_for

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def run_ip(*args: str) -> str:
    p = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if p.returncode != 0:
        raise AssertionError(f"`ip {' '.join(args)}` failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


def _setns(fd: int, what: str):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns into {what}: {os.strerror(err)}")


def socket_in_netns(netns: str) -> socket.socket:
    """A TCP socket that belongs to netns; this thread is back in its own namespace on return."""
    with open(f"/run/netns/{netns}") as target, open("/proc/thread-self/ns/net") as home:
        _setns(target.fileno(), netns)
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            _setns(home.fileno(), "the test's own namespace")


class _NetnsConnection(http.client.HTTPConnection):
    def __init__(self, netns: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.netns = netns

    def connect(self):
        sock = socket_in_netns(self.netns)
        try:
            sock.settimeout(self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect((self.host, self.port))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class NetnsHttp(Http):
    """An Http client whose connections are made inside netns (never from the host's)."""

    def __init__(self, netns: str, host: str, port: int, timeout: float = 10.0):
        super().__init__(host, port, timeout)
        self.netns = netns

    def new_connection(self, timeout: float) -> http.client.HTTPConnection:
        return _NetnsConnection(self.netns, self.host, self.port, timeout)


class NetnsLab:
    """count host namespaces on one bridge. hosts[i] is the namespace name, ips[i] its address.

    Names carry the test process's pid, so parallel runs never share a namespace. Use as a
    context manager: everything created is removed on exit, and the exit fails if a
    namespace is left behind."""

    SUBNET = "10.213.{k}.0/24"

    def __init__(self, count: int):
        self.prefix = f"cairn-t{os.getpid()}-"
        self.bridge_ns = self.prefix + "br"
        self.hosts = [f"{self.prefix}{i}" for i in range(count)]
        k = os.getpid() % 250 + 1  # any k is private here: the /24 exists only in these namespaces
        self.ips = [f"10.213.{k}.{i + 2}" for i in range(count)]
        self.created = []

    # -- lifecycle

    def __enter__(self):
        try:
            self._create()
        except BaseException:
            try:
                self.remove()
            except AssertionError:
                pass  # the creation error is the one to report
            raise
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def _add_netns(self, name: str):
        p = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True,
                           timeout=20)
        if p.returncode != 0:
            # Not a skip: this test runs as root in CI, where it must run.
            raise AssertionError(f"cannot create network namespace {name} "
                                 f"(`ip netns add` needs root / CAP_SYS_ADMIN): "
                                 f"{p.stderr.strip()}")
        self.created.append(name)
        run_ip("-n", name, "link", "set", "lo", "up")

    def _create(self):
        self._add_netns(self.bridge_ns)
        run_ip("-n", self.bridge_ns, "link", "add", "br0", "type", "bridge", "stp_state", "0")
        run_ip("-n", self.bridge_ns, "link", "set", "br0", "up")
        for i, (host, ip) in enumerate(zip(self.hosts, self.ips)):
            self._add_netns(host)
            # Both ends are born in namespaces: the host's namespace never sees them.
            run_ip("-n", self.bridge_ns, "link", "add", self.port_of(i), "type", "veth",
                   "peer", "name", "eth0", "netns", host)
            run_ip("-n", self.bridge_ns, "link", "set", self.port_of(i), "master", "br0", "up")
            run_ip("-n", host, "addr", "add", f"{ip}/24", "dev", "eth0")
            run_ip("-n", host, "link", "set", "eth0", "up")

    def pids(self, name: str):
        p = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True,
                           timeout=20)
        return [int(x) for x in p.stdout.split()] if p.returncode == 0 else []

    def remove(self):
        """Deletes every namespace this lab created (and with them their links). Processes
        still inside are waited for (their owners kill them first), then killed by pid."""
        errors = []
        for name in self.created:
            try:
                wait_for(lambda n=name: not self.pids(n), 15,
                         f"every process in namespace {name} to exit")
            except AssertionError as e:
                errors.append(str(e))
                for pid in self.pids(name):
                    try:
                        os.kill(pid, 9)
                    except ProcessLookupError:
                        pass
        for name in reversed(self.created):
            p = subprocess.run(["ip", "netns", "del", name], capture_output=True, text=True,
                               timeout=20)
            if p.returncode != 0:
                errors.append(f"ip netns del {name}: {p.stderr.strip()}")
        self.created = []
        mine = [n for n in self.listed() if n.startswith(self.prefix)]
        if mine:
            errors.append(f"namespaces left behind: {mine}")
        assert not errors, "; ".join(errors)

    def listed(self):
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                             timeout=20).stdout
        return [line.split()[0] for line in out.splitlines() if line.strip()]

    # -- topology

    @staticmethod
    def port_of(i: int) -> str:
        return f"p{i}"

    def isolate(self, i: int):
        """Cuts host i off the bridge: its packets (and packets to it) are dropped."""
        run_ip("-n", self.bridge_ns, "link", "set", self.port_of(i), "down")

    def heal(self, i: int):
        run_ip("-n", self.bridge_ns, "link", "set", self.port_of(i), "up")

    def exec_prefix(self, i: int):
        return ["ip", "netns", "exec", self.hosts[i]]
