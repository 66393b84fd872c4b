#include "agent/config/identity.h"

#include <unistd.h>

#include "common/files.h"
#include "common/random.h"

namespace cairn::config {

std::string hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

std::string load_or_create_node_id(const std::string& data_dir, std::string& error) {
  if (data_dir.empty()) return random_uuid();
  std::string path = data_dir + "/node-id";
  std::string id;
  if (file_exists(path)) {
    if (!read_file(path, id, error)) return "";
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    if (!is_uuid(id)) {
      error = path + ": does not hold a UUID";
      return "";
    }
    return id;
  }
  id = random_uuid();
  if (!write_file_atomic(path, id, error)) return "";
  return id;
}

}  // namespace cairn::config
