"""DNS helpers for integration tests: real packets to the agent with dnspython,
and a test upstream resolver on loopback for the recursor tests."""
import socket
import struct
import threading

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

from harness import SLOW


def ask(agent, name, rdtype="A", tcp=False, edns=None, timeout=2.0, **kw):
    """Sends one query to the agent's DNS port; edns is the advertised UDP size."""
    if edns:
        kw.update(use_edns=0, payload=edns)
    q = dns.message.make_query(name, rdtype, **kw)
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=agent.dns_port, timeout=timeout * SLOW)
    return dns.query.udp(q, "127.0.0.1", port=agent.dns_port, timeout=timeout * SLOW)


def records(section, rdtype=None):
    """[(owner, ttl, type, text)] of a section, in order."""
    out = []
    for rrset in section:
        for rd in rrset:
            t = dns.rdatatype.to_text(rrset.rdtype)
            if rdtype and t != rdtype:
                continue
            out.append((rrset.name.to_text(), rrset.ttl, t, rd.to_text()))
    return out


def texts(section, rdtype=None):
    return sorted(r[3] for r in records(section, rdtype))


def rcode(msg):
    return dns.rcode.to_text(msg.rcode())


def raw_udp(agent, payload: bytes, timeout=1.0):
    """Sends raw bytes; returns the reply bytes or None when nothing comes back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout * SLOW)
        s.sendto(payload, ("127.0.0.1", agent.dns_port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


class Upstream:
    """A test resolver on loopback (UDP and TCP on one port). mode:
    "answer" (A 192.0.2.1 for every name), "servfail", "refused", "nxdomain",
    or "drop" (never answers). Counts the queries it saw."""

    def __init__(self, mode="answer", address="192.0.2.1"):
        self.mode = mode
        self.address = address
        self.queries = []
        for _ in range(100):  # one port free for both UDP and TCP
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        self.tcp.listen(16)
        self.stopped = False
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def _reply(self, data, transport):
        q = dns.message.from_wire(data)
        self.queries.append((q.question[0].name.to_text(), transport))
        if self.mode == "drop":
            return None
        r = dns.message.make_response(q)
        r.flags |= dns.flags.RA
        if self.mode == "servfail":
            r.set_rcode(dns.rcode.SERVFAIL)
        elif self.mode == "refused":
            r.set_rcode(dns.rcode.REFUSED)
        elif self.mode == "nxdomain":
            r.set_rcode(dns.rcode.NXDOMAIN)
        else:
            r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A", self.address))
        return r.to_wire()

    def _serve_udp(self):
        self.udp.settimeout(0.2)
        while not self.stopped:
            try:
                data, peer = self.udp.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            out = self._reply(data, "udp")
            if out:
                self.udp.sendto(out, peer)

    def _serve_tcp(self):
        self.tcp.settimeout(0.2)
        while not self.stopped:
            try:
                conn, _ = self.tcp.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    hdr = conn.recv(2)
                    (n,) = struct.unpack("!H", hdr)
                    data = b""
                    while len(data) < n:
                        chunk = conn.recv(n - len(data))
                        if not chunk:
                            break
                        data += chunk
                    out = self._reply(data, "tcp")
                    if out:
                        conn.sendall(struct.pack("!H", len(out)) + out)
                    else:
                        conn.recv(1)  # hold the connection until the agent gives up
                except (OSError, struct.error):
                    pass

    def stop(self):
        self.stopped = True
        for t in self.threads:
            t.join(timeout=2)
        self.udp.close()
        self.tcp.close()


def closed_port():
    """A loopback UDP port with nothing listening (the agent gets ICMP unreachable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
