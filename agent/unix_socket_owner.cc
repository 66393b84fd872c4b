#include "agent/unix_socket_owner.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

namespace cairn {

namespace {

std::optional<unsigned> numeric_id(const std::string& s) {
  unsigned id = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), id);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return id;
}

// A user name or a numeric UID, as Consul's unix_sockets.user takes.
std::optional<uid_t> lookup_user(const std::string& name) {
  if (auto id = numeric_id(name)) return static_cast<uid_t>(*id);
  std::vector<char> buf(16384);
  passwd pw{}, *found = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found)
    return std::nullopt;
  return found->pw_uid;
}

std::optional<gid_t> lookup_group(const std::string& name) {
  if (auto id = numeric_id(name)) return static_cast<gid_t>(*id);
  std::vector<char> buf(16384);
  group gr{}, *found = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found)
    return std::nullopt;
  return found->gr_gid;
}

}  // namespace

std::string apply_unix_socket_owner(const std::string& path, const config::UnixSockets& owner) {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!owner.user.empty()) {
    auto u = lookup_user(owner.user);
    if (!u) return "unix_sockets.user: no user \"" + owner.user + "\"";
    uid = *u;
  }
  if (!owner.group.empty()) {
    auto g = lookup_group(owner.group);
    if (!g) return "unix_sockets.group: no group \"" + owner.group + "\"";
    gid = *g;
  }
  if ((!owner.user.empty() || !owner.group.empty()) && ::chown(path.c_str(), uid, gid) != 0)
    return "unix_sockets: chown " + path + ": " + std::strerror(errno);
  if (owner.mode && ::chmod(path.c_str(), static_cast<mode_t>(*owner.mode)) != 0)
    return "unix_sockets.mode: chmod " + path + ": " + std::strerror(errno);
  return "";
}

}  // namespace cairn
