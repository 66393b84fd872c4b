// `cairn-dnsfwd setup-resolv [--undo] [--root DIR]`: points the host's
// resolver at the forwarder, reversibly.
//
// Setup saves the host's real nameservers to /etc/cairn/resolv.upstream
// (where the forwarder reads its default upstreams), keeps the original
// /etc/resolv.conf (or the symlink it was) as /etc/cairn/resolv.conf.orig,
// and writes a resolv.conf with `nameserver 127.0.0.1` and the original
// search/domain/options lines. Running it again changes nothing. --undo puts
// the original back. It recognises the systemd-resolved stub (127.0.0.53,
// whose real upstreams are in /run/systemd/resolve/resolv.conf), dhclient,
// NetworkManager and resolvconf, which would rewrite the file behind our
// back, and says what to change there. --root makes every path relative to
// DIR, so tests never touch the real /etc.
#pragma once

#include <string>
#include <vector>

namespace cairn::dnsfwd {

struct SetupResolvOptions {
  std::string root = "/";
  bool undo = false;
  std::string listen_address = "127.0.0.1";  // what resolv.conf will name
};

struct SetupResolvResult {
  int exit_code = 0;
  std::vector<std::string> lines;  // what was done and what to change elsewhere
};

SetupResolvResult setup_resolv(const SetupResolvOptions& options);

}  // namespace cairn::dnsfwd
