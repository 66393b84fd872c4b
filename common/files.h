// File helpers for persisted state: whole-file reads and crash-safe writes.
#pragma once

#include <string>
#include <vector>

namespace cairn {

// Reads a whole file. Returns false and sets error (with the path) on failure.
bool read_file(const std::string& path, std::string& out, std::string& error);

// Writes via a temp file in the same directory, fsync, rename, then fsync of the
// directory: after a crash the path holds either the old or the new content.
bool write_file_atomic(const std::string& path, const std::string& content, std::string& error);

// Removes a file and fsyncs its directory; a missing file is not an error.
bool remove_file_durable(const std::string& path, std::string& error);

// mkdir -p with the given mode for created directories.
bool make_dirs(const std::string& path, unsigned mode, std::string& error);

// Regular files in dir (not recursive), sorted by name; suffixes filters (".yaml", ...).
std::vector<std::string> list_files(const std::string& dir, const std::vector<std::string>& suffixes);

bool is_directory(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace cairn
