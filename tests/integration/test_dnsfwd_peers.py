"""cairn-dnsfwd in front of real resolvers from Debian: dnsmasq and unbound,
each started on a loopback high port with its own temporary config."""
import shutil
import time

import dns.rcode
import pytest

from harness import dns_query, free_port, wait_for
from test_dnsfwd import Fwd, addrs, group

pytestmark = pytest.mark.skipif(not (shutil.which("dnsmasq") or shutil.which("/usr/sbin/dnsmasq"))
                                or not shutil.which("/usr/sbin/unbound"),
                                reason="dnsmasq and unbound are installed by packaging/install-deps.sh test")


def start_dnsmasq(daemons, tmp_path, records):
    port = free_port()
    conf = tmp_path / "dnsmasq.conf"
    lines = [f"port={port}", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts",
             "local=/example.com/", "local-ttl=60", "log-facility=-"]
    lines += [f"host-record={name},{ip}" for name, ip in records.items()]
    conf.write_text("\n".join(lines) + "\n")
    d = daemons(["/usr/sbin/dnsmasq", "-k", "-C", str(conf), "--pid-file="], "dnsmasq")
    wait_for(lambda: dns_query(port, "www.example.com", timeout=0.3).answer, 10, "dnsmasq to answer")
    return d, port


def start_unbound(daemons, tmp_path, records):
    port = free_port()
    conf = tmp_path / "unbound.conf"
    data = "\n".join(f'  local-data: "{name}. 60 IN A {ip}"' for name, ip in records.items())
    conf.write_text(f"""server:
  interface: 127.0.0.1@{port}
  port: {port}
  do-daemonize: no
  do-ip6: no
  username: ""
  chroot: ""
  directory: "{tmp_path}"
  pidfile: "{tmp_path}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "example.com." static
  local-data: "example.com. 3600 IN SOA ns.example.com. h.example.com. 1 3600 600 86400 30"
{data}
remote-control:
  control-enable: no
""")
    d = daemons(["/usr/sbin/unbound", "-d", "-c", str(conf)], "unbound")
    wait_for(lambda: dns_query(port, "www.example.com", timeout=0.3).answer, 10, "unbound to answer")
    return d, port


def test_dnsmasq_then_unbound_with_failover(daemons, tmp_path):
    dnsmasq, dport = start_dnsmasq(daemons, tmp_path,
                                   {"www.example.com": "192.0.2.10", "www2.example.com": "192.0.2.11"})
    _, uport = start_unbound(daemons, tmp_path,
                             {"www.example.com": "192.0.2.20", "www2.example.com": "192.0.2.21"})
    fwd = Fwd(daemons, tmp_path, {"upstreams": group([f"127.0.0.1:{dport}", f"127.0.0.1:{uport}"])})
    assert addrs(fwd.q("www.example.com")) == ["192.0.2.10"]
    assert fwd.q("nope.example.com").rcode() == dns.rcode.NXDOMAIN

    dnsmasq.kill9()  # nothing listens on its port any more: ICMP port unreachable
    start = time.monotonic()
    assert addrs(fwd.q("www2.example.com")) == ["192.0.2.21"]
    # The refused attempt moves on at once instead of waiting for a timeout.
    assert time.monotonic() - start < 0.9
    assert addrs(fwd.q("www.example.com")) == ["192.0.2.10"]  # still cached from dnsmasq


def test_unbound_negative_answers_are_cached(daemons, tmp_path):
    _, uport = start_unbound(daemons, tmp_path, {"www.example.com": "192.0.2.20"})
    fwd = Fwd(daemons, tmp_path, {"upstreams": group([f"127.0.0.1:{uport}"])})
    r = fwd.q("missing.example.com")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert 0 < r.authority[0].ttl <= 30  # min(SOA TTL 3600, MINIMUM 30)
    fwd.q("missing.example.com")
    assert fwd.metric("cairn_dnsfwd_cache_hits_total") == 1
    assert fwd.metric("cairn_dnsfwd_upstream_answers_total", group="default",
                      upstream=f"127.0.0.1:{uport}") == 1
