// -pid-file / pid_file: the agent's PID in a file for init scripts and
// supervisors, as Consul writes it (the decimal PID, no newline, mode 0666
// less the umask), removed again when the agent stops gracefully.
#pragma once

#include <string>

namespace cairn {

class PidFile {
 public:
  PidFile() = default;
  // Removes the file this object wrote, if any.
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

  // Writes the current PID to path (nothing for an empty path). Returns "" or
  // Consul's message ("Could not open pid file: ...").
  std::string write(const std::string& path);

 private:
  std::string path_;
};

}  // namespace cairn
