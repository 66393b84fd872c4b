// `cairn snapshot save|restore|inspect`, as consul snapshot: save writes the
// agent's /v1/snapshot to a file (temp file, fsync, rename) once the bytes
// have checked out; restore checks the file, then PUTs it; inspect reads a
// file offline. Progress goes to stderr only when stderr is a terminal.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "agent/cli/client.h"
#include "agent/cli/commands.h"
#include "agent/snapshot/snapshot_file.h"
#include "common/files.h"

namespace cairn::cli {

namespace {

// A snapshot moves in one request: give a large one time to cross.
constexpr int kTransferTimeoutMs = 10 * 60'000;

void progress(const std::string& text) {
  if (isatty(STDERR_FILENO) == 1) std::fprintf(stderr, "%s\n", text.c_str());
}

// Reads and checks a snapshot file; prints the error and returns false.
bool read_snapshot(const std::string& path, std::string& bytes, snapshot::Snapshot& s) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    fail("Error opening snapshot file: " + path + ": " + std::strerror(errno));
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > snapshot::kDefaultMaxBytes) {
    fail("Error verifying snapshot file: " + path + " is " + std::to_string(st.st_size) +
         " bytes, over the limit of " + std::to_string(snapshot::kDefaultMaxBytes));
    return false;
  }
  std::string err;
  if (!read_file(path, bytes, err)) {
    fail("Error opening snapshot file: " + err);
    return false;
  }
  snapshot::Status v = snapshot::decode(bytes, {}, s);
  if (!v.ok()) {
    fail("Error verifying snapshot file: " + v.message);
    return false;
  }
  return true;
}

int snapshot_save(const ApiClient& api, const Args& args) {
  FlagSet f;
  if (auto e = parse_flags(args, {"stale"}, {}, f); !e.empty()) return fail(e);
  if (f.positional.size() != 1) return fail("Usage: cairn snapshot save [-stale] FILE");
  const std::string& path = f.positional[0];
  progress("Requesting a snapshot from " + api.address + "...");
  http::ClientResponse resp;
  std::string err;
  if (!api.request("GET", f.has("stale") ? "/v1/snapshot?stale" : "/v1/snapshot", "", resp, err,
                   kTransferTimeoutMs))
    return fail("Error saving snapshot: " + err);
  if (resp.status != 200)
    return fail("Error saving snapshot: Unexpected response code: " + std::to_string(resp.status) +
                " (" + resp.body + ")");
  progress("Received " + std::to_string(resp.body.size()) + " bytes; verifying...");
  snapshot::Snapshot s;
  if (snapshot::Status v = snapshot::decode(resp.body, {}, s); !v.ok())
    return fail("Error verifying snapshot: " + v.message);
  if (!write_file_atomic(path, resp.body, err)) return fail("Error writing snapshot file: " + err);
  std::printf("Saved and verified snapshot to index %llu\n",
              static_cast<unsigned long long>(s.meta.index));
  return 0;
}

int snapshot_restore(const ApiClient& api, const Args& args) {
  FlagSet f;
  if (auto e = parse_flags(args, {}, {}, f); !e.empty()) return fail(e);
  if (f.positional.size() != 1) return fail("Usage: cairn snapshot restore FILE");
  std::string bytes;
  snapshot::Snapshot s;
  if (!read_snapshot(f.positional[0], bytes, s)) return 1;
  progress("Restoring " + std::to_string(bytes.size()) + " bytes (index " +
           std::to_string(s.meta.index) + ")...");
  http::ClientResponse resp;
  std::string err;
  if (!api.request("PUT", "/v1/snapshot", bytes, resp, err, kTransferTimeoutMs))
    return fail("Error restoring snapshot: " + err);
  if (resp.status != 200)
    return fail("Error restoring snapshot: Unexpected response code: " +
                std::to_string(resp.status) + " (" + resp.body + ")");
  std::printf("Restored snapshot\n");
  return 0;
}

int snapshot_inspect(const Args& args) {
  FlagSet f;
  if (auto e = parse_flags(args, {}, {}, f); !e.empty()) return fail(e);
  if (f.positional.size() != 1) return fail("Usage: cairn snapshot inspect FILE");
  std::string bytes;
  snapshot::Snapshot s;
  if (!read_snapshot(f.positional[0], bytes, s)) return 1;
  std::string head = columns({{" ID", snapshot::snapshot_id(s.meta)},
                              {" Size", std::to_string(bytes.size())},
                              {" Index", std::to_string(s.meta.index)},
                              {" Term", std::to_string(s.meta.term)},
                              {" Version", std::to_string(s.meta.version)},
                              {" Datacenter", s.meta.datacenter},
                              {" Cairn", s.meta.cairn_version}});
  std::vector<std::vector<std::string>> rows{{" Type", "Count", "Size"}, {" ----", "----", "----"}};
  uint64_t total = 0;
  for (const auto& t : snapshot::table_stats(s)) {
    rows.push_back({" " + t.table, std::to_string(t.count), std::to_string(t.bytes)});
    total += t.bytes;
  }
  rows.push_back({" ----", "----", "----"});
  rows.push_back({" Total", "", std::to_string(total)});
  std::printf("%s\n%s", head.c_str(), columns(rows).c_str());
  return 0;
}

}  // namespace

int cmd_snapshot(Args args) {
  ApiClient api = ApiClient::from_args(args);
  if (args.empty()) return fail("Usage: cairn snapshot save|restore|inspect [options] FILE");
  std::string sub = args.front();
  args.erase(args.begin());
  if (sub == "save") return snapshot_save(api, args);
  if (sub == "restore") return snapshot_restore(api, args);
  if (sub == "inspect") return snapshot_inspect(args);
  return fail("Unknown snapshot subcommand \"" + sub + "\" (save, restore, inspect)");
}

}  // namespace cairn::cli
