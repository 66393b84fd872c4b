// Where the default upstreams come from when dnsfwd.yaml lists none: the
// first file that yields at least one usable server, normally
// /etc/cairn/resolv.upstream (written by setup-resolv from the host's
// original resolv.conf), else the nameservers of /etc/resolv.conf itself.
//
// Loop protection: our own listen addresses are never upstreams, and from a
// file named resolv.conf every loopback nameserver is dropped (once
// setup-resolv has run it says 127.0.0.1, i.e. us; 127.0.0.53 is the
// systemd-resolved stub). resolv.upstream may name loopback servers on other
// ports on purpose (a local unbound, or tests).
#pragma once

#include <string>
#include <vector>

#include "dnsfwd/address.h"

namespace cairn::dnsfwd {

struct UpstreamFiles {
  std::vector<Endpoint> servers;
  std::string file;                  // the file they came from
  std::vector<std::string> skipped;  // "file: entry: reason", for -check and logs
};

// Reads files in order; returns false (with a reason naming every file) when
// none yields a server. own: the addresses we listen on.
bool read_upstream_files(const std::vector<std::string>& files, const std::vector<Endpoint>& own,
                         UpstreamFiles& out, std::string& error);

// The same filter applied to the entries of one file's text.
std::vector<Endpoint> upstreams_from_text(const std::string& text, bool drop_loopback,
                                          const std::vector<Endpoint>& own,
                                          std::vector<std::string>& skipped);

}  // namespace cairn::dnsfwd
