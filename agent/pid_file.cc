#include "agent/pid_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace cairn {

std::string PidFile::write(const std::string& path) {
  if (path.empty()) return "";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return "Could not open pid file: " + path + ": " + std::strerror(errno);
  std::string pid = std::to_string(getpid());
  ssize_t n = ::write(fd, pid.data(), pid.size());
  int write_errno = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(pid.size()))
    return "Could not write to pid file: " + path + ": " +
           (n < 0 ? std::strerror(write_errno) : "short write");
  path_ = path;
  return "";
}

PidFile::~PidFile() {
  if (path_.empty()) return;
  // Someone may have replaced it with a directory: Consul refuses to remove one too.
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    log::warn("agent", "pid file path is a directory; not removed", {{"path", path_}});
    return;
  }
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
    log::warn("agent", "could not remove pid file",
              {{"path", path_}, {"error", std::strerror(errno)}});
}

}  // namespace cairn
