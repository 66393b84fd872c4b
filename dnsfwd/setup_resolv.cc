#include "dnsfwd/setup_resolv.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.h"
#include "dnsfwd/address.h"
#include "dnsfwd/resolv_conf.h"

namespace cairn::dnsfwd {

namespace {

constexpr const char* kUpstreamHeader = "# written by cairn-dnsfwd setup-resolv";
constexpr const char* kResolvedStub = "127.0.0.53";

struct Paths {
  std::string resolv_conf, backup, upstream, resolved_upstreams, dhclient, network_manager,
      resolvconf_dir;
};

std::string join(const std::string& root, const std::string& p) {
  if (root.empty() || root == "/") return p;
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return r + p;
}

Paths paths_for(const std::string& root) {
  Paths p;
  p.resolv_conf = join(root, "/etc/resolv.conf");
  p.backup = join(root, "/etc/cairn/resolv.conf.orig");
  p.upstream = join(root, "/etc/cairn/resolv.upstream");
  p.resolved_upstreams = join(root, "/run/systemd/resolve/resolv.conf");
  p.dhclient = join(root, "/etc/dhcp/dhclient.conf");
  p.network_manager = join(root, "/etc/NetworkManager/NetworkManager.conf");
  p.resolvconf_dir = join(root, "/etc/resolvconf");
  return p;
}

bool is_symlink(const std::string& path, std::string& target) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return false;
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return false;
  target.assign(buf, static_cast<size_t>(n));
  return true;
}

// Atomic replace that leaves a world-readable file: resolv.conf is read by
// every process, not only root.
bool write_public(const std::string& path, const std::string& content, std::string& error) {
  if (!write_file_atomic(path, content, error)) return false;
  if (chmod(path.c_str(), 0644) != 0) {
    error = "chmod " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool replace_with_symlink(const std::string& path, const std::string& target, std::string& error) {
  std::string tmp = path + ".cairn-tmp";
  unlink(tmp.c_str());
  if (symlink(target.c_str(), tmp.c_str()) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    error = "symlink " + path + " -> " + target + ": " + std::strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::string dir_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

void advise(const Paths& p, SetupResolvResult& r, bool via_resolved) {
  std::string text;
  if (via_resolved) {
    r.lines.push_back(
        "systemd-resolved: its stub (127.0.0.53) was the nameserver; upstreams were taken from "
        "/run/systemd/resolve/resolv.conf. resolved would restore its symlink: set "
        "DNSStubListener=no and keep it from managing /etc/resolv.conf, or run "
        "`resolvectl dns` to check what it uses.");
  }
  std::string err;
  if (read_file(p.dhclient, text, err)) {
    if (text.find("prepend domain-name-servers 127.0.0.1;") == std::string::npos)
      r.lines.push_back(
          "dhclient rewrites /etc/resolv.conf on every lease: add the line `prepend "
          "domain-name-servers 127.0.0.1;` to /etc/dhcp/dhclient.conf");
    else
      r.lines.push_back("dhclient: /etc/dhcp/dhclient.conf already prepends 127.0.0.1");
  }
  if (read_file(p.network_manager, text, err) && text.find("dns=none") == std::string::npos)
    r.lines.push_back(
        "NetworkManager manages /etc/resolv.conf: set `dns=none` in the [main] section of "
        "/etc/NetworkManager/NetworkManager.conf (or rc-manager=unmanaged)");
  if (is_directory(p.resolvconf_dir))
    r.lines.push_back(
        "resolvconf is installed and regenerates /etc/resolv.conf: put `nameserver 127.0.0.1` in "
        "/etc/resolvconf/resolv.conf.d/head instead");
}

SetupResolvResult fail(SetupResolvResult r, std::string message) {
  r.exit_code = 1;
  r.lines.push_back("error: " + message);
  return r;
}

SetupResolvResult do_undo(const Paths& p) {
  SetupResolvResult r;
  std::string err, target, text;
  bool backup_is_link = is_symlink(p.backup, target);
  if (!backup_is_link && !file_exists(p.backup)) {
    r.lines.push_back("nothing to undo: no " + p.backup);
    return r;
  }
  if (backup_is_link) {
    if (!replace_with_symlink(p.resolv_conf, target, err)) return fail(r, err);
    r.lines.push_back("restored " + p.resolv_conf + " -> " + target);
  } else {
    if (!read_file(p.backup, text, err)) return fail(r, err);
    if (!write_public(p.resolv_conf, text, err)) return fail(r, err);
    r.lines.push_back("restored " + p.resolv_conf + " from " + p.backup);
  }
  if (!remove_file_durable(p.backup, err)) return fail(r, err);
  if (read_file(p.upstream, text, err) && text.starts_with(kUpstreamHeader)) {
    if (!remove_file_durable(p.upstream, err)) return fail(r, err);
    r.lines.push_back("removed " + p.upstream);
  }
  return r;
}

}  // namespace

SetupResolvResult setup_resolv(const SetupResolvOptions& o) {
  Paths p = paths_for(o.root);
  if (o.undo) return do_undo(p);

  SetupResolvResult r;
  std::string err, text, link_target;
  bool was_link = is_symlink(p.resolv_conf, link_target);
  if (!read_file(p.resolv_conf, text, err)) {
    if (!was_link) return fail(r, err);
    text.clear();  // a dangling symlink (resolved not running): nothing to keep
  }
  ResolvConf current = parse_resolv_conf(text);
  bool ours = current.has_marker && !current.nameservers.empty() &&
              current.nameservers.front() == o.listen_address;
  if (ours) {
    r.lines.push_back(p.resolv_conf + " already points at " + o.listen_address +
                      "; nothing changed");
    advise(p, r, false);
    return r;
  }

  // The real upstreams: non-loopback nameservers; behind the resolved stub, its own list.
  bool via_resolved = false;
  std::vector<std::string> upstreams;
  auto collect = [&](const ResolvConf& rc) {
    for (const auto& ns : rc.nameservers) {
      auto e = parse_endpoint(ns, 53);
      if (!e) continue;
      if (address_text(e->sa()) == kResolvedStub) {
        via_resolved = true;
        continue;
      }
      if (e->loopback()) continue;
      std::string a = address_text(e->sa());
      bool dup = false;
      for (const auto& u : upstreams) dup = dup || u == a;
      if (!dup) upstreams.push_back(a);
    }
  };
  collect(current);
  if (via_resolved && upstreams.empty()) {
    std::string rtext;
    if (read_file(p.resolved_upstreams, rtext, err)) collect(parse_resolv_conf(rtext));
  }
  if (upstreams.empty()) {
    std::string existing;
    if (read_file(p.upstream, existing, err) && !parse_resolv_conf(existing).nameservers.empty()) {
      r.lines.push_back("no upstream in " + p.resolv_conf + "; keeping " + p.upstream);
    } else {
      return fail(r, "no upstream nameserver found in " + p.resolv_conf +
                         " (only loopback entries); write " + p.upstream +
                         " with `nameserver ADDRESS` lines first");
    }
  } else {
    std::string content = std::string(kUpstreamHeader) + " from " + "/etc/resolv.conf" +
                          "; cairn-dnsfwd forwards here\n";
    for (const auto& u : upstreams) content += "nameserver " + u + "\n";
    if (!make_dirs(dir_of(p.upstream), 0755, err) || !write_public(p.upstream, content, err))
      return fail(r, err);
    std::string list;
    for (const auto& u : upstreams) list += (list.empty() ? "" : ", ") + u;
    r.lines.push_back("saved upstream nameservers (" + list + ") to " + p.upstream);
  }

  // Keep the original exactly once, so undo returns to the state before the first run.
  std::string ignored;
  if (!file_exists(p.backup) && !is_symlink(p.backup, ignored)) {
    if (was_link) {
      if (symlink(link_target.c_str(), p.backup.c_str()) != 0)
        return fail(r, "symlink " + p.backup + ": " + std::strerror(errno));
    } else if (!write_public(p.backup, text, err)) {
      return fail(r, err);
    }
    r.lines.push_back("saved the original " + p.resolv_conf + " as " + p.backup);
  }

  std::string out = std::string(kResolvMarker) +
                    ": queries go to cairn-dnsfwd; upstreams in /etc/cairn/resolv.upstream.\n"
                    "# Undo with `cairn-dnsfwd setup-resolv --undo` (original: "
                    "/etc/cairn/resolv.conf.orig).\n";
  out += "nameserver " + o.listen_address + "\n";
  for (const auto& line : current.other_lines) out += line + "\n";
  if (!write_public(p.resolv_conf, out, err)) return fail(r, err);
  r.lines.push_back("wrote " + p.resolv_conf + " with nameserver " + o.listen_address +
                    (was_link ? " (replacing the symlink to " + link_target + ")" : ""));
  advise(p, r, via_resolved);
  return r;
}

}  // namespace cairn::dnsfwd
