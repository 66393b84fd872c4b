#include "agent/snapshot/snapshot_file.h"

#include <algorithm>
#include <array>
#include <memory>

#include "common/sha256.h"

namespace cairn::snapshot {

namespace {

// Fixed part of the header: magic, version, index, term, created, the two
// string lengths and the record count.
constexpr size_t kFixedHeaderBytes = 8 + 4 + 8 + 8 + 8 + 2 + 2 + 4;
constexpr size_t kMinRecordBytes = 8;  // two empty lengths
constexpr uint64_t kInitialRecords = 4096;

using Digest = std::array<unsigned char, kChecksumBytes>;

Digest seal_of(std::string_view bytes) {
  std::array<uint8_t, 32> md = sha256(bytes);
  Digest d{};
  std::copy(md.begin(), md.end(), d.begin());
  return d;
}

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_text(std::string& out, std::string_view s, int len_bytes) {
  put_be(out, s.size(), len_bytes);
  out.append(s);
}

// Reads big-endian fields off the front of a view; any read past the end
// leaves it failed, so the caller checks once per structure.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint64_t number(int bytes) {
    if (failed_ || in_.size() < static_cast<size_t>(bytes)) {
      failed_ = true;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in_[i]);
    in_.remove_prefix(bytes);
    return v;
  }
  std::string_view bytes(uint64_t n) {
    if (failed_ || in_.size() < n) {
      failed_ = true;
      return {};
    }
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  bool failed() const { return failed_; }
  size_t left() const { return in_.size(); }

 private:
  std::string_view in_;
  bool failed_ = false;
};

}  // namespace

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::ok:
      return "ok";
    case ErrorCode::too_large:
      return "too_large";
    case ErrorCode::truncated:
      return "truncated";
    case ErrorCode::bad_magic:
      return "bad_magic";
    case ErrorCode::unsupported_version:
      return "unsupported_version";
    case ErrorCode::checksum_mismatch:
      return "checksum_mismatch";
    case ErrorCode::malformed:
      return "malformed";
  }
  return "unknown";
}

std::string encode(const Snapshot& s) {
  size_t size =
      kFixedHeaderBytes + s.meta.datacenter.size() + s.meta.cairn_version.size() + kChecksumBytes;
  for (const auto& r : s.records) size += kMinRecordBytes + r.key.size() + r.value.size();
  std::string out;
  out.reserve(size);
  out.append(kMagic);
  put_be(out, kFormatVersion, 4);
  put_be(out, s.meta.index, 8);
  put_be(out, s.meta.term, 8);
  put_be(out, s.meta.created_unix_ms, 8);
  put_text(out, s.meta.datacenter.substr(0, 0xffff), 2);
  put_text(out, s.meta.cairn_version.substr(0, 0xffff), 2);
  put_be(out, s.records.size(), 4);
  for (const auto& r : s.records) {
    put_text(out, r.key, 4);
    put_text(out, r.value, 4);
  }
  Digest d = seal_of(out);
  out.append(reinterpret_cast<const char*>(d.data()), d.size());
  return out;
}

Status decode(std::string_view bytes, const Limits& limits, Snapshot& out) {
  if (bytes.size() > limits.max_bytes)
    return Status::error(ErrorCode::too_large, "snapshot is " + std::to_string(bytes.size()) +
                                                   " bytes; the limit is " +
                                                   std::to_string(limits.max_bytes));
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
    return Status::error(ErrorCode::bad_magic, "not a cairn snapshot (bad magic)");
  if (bytes.size() < kMagic.size() + 4)
    return Status::error(ErrorCode::truncated, "snapshot ends inside its header");
  Reader version_reader(bytes.substr(kMagic.size(), 4));
  auto version = static_cast<uint32_t>(version_reader.number(4));
  // The version comes before the checksum: a newer format may checksum otherwise.
  if (version != kFormatVersion)
    return Status::error(ErrorCode::unsupported_version,
                         "snapshot format version " + std::to_string(version) +
                             " is not supported (this cairn reads version " +
                             std::to_string(kFormatVersion) + ")");
  if (bytes.size() < kFixedHeaderBytes + kChecksumBytes)
    return Status::error(ErrorCode::truncated, "snapshot ends inside its header");
  std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  Digest want = seal_of(body);
  if (bytes.substr(body.size()) !=
      std::string_view(reinterpret_cast<const char*>(want.data()), want.size()))
    return Status::error(ErrorCode::checksum_mismatch,
                         "snapshot checksum does not match: the file is truncated or corrupt");

  Reader r(body.substr(kMagic.size() + 4));
  Snapshot s;
  s.meta.version = version;
  s.meta.index = r.number(8);
  s.meta.term = r.number(8);
  s.meta.created_unix_ms = r.number(8);
  s.meta.datacenter = r.bytes(r.number(2));
  s.meta.cairn_version = r.bytes(r.number(2));
  uint64_t count = r.number(4);
  if (r.failed()) return Status::error(ErrorCode::malformed, "snapshot header does not add up");
  // Each record takes at least its two lengths: a count the bytes cannot
  // hold is refused before anything is reserved for it.
  if (count > r.left() / kMinRecordBytes)
    return Status::error(ErrorCode::malformed, "snapshot claims more records than it holds");
  // Reserve only a little up front: the vector grows with the records that
  // actually parse, so a lying count costs nothing.
  s.records.reserve(std::min<uint64_t>(count, kInitialRecords));
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t key_len = r.number(4);
    if (key_len > kMaxKeyBytes)
      return Status::error(ErrorCode::malformed,
                           "record " + std::to_string(i) + " has a key over the limit");
    std::string_view key = r.bytes(key_len);
    std::string_view value = r.bytes(r.number(4));
    if (r.failed())
      return Status::error(ErrorCode::malformed,
                           "record " + std::to_string(i) + " runs past the end of the snapshot");
    if (record_table(key).empty())
      return Status::error(ErrorCode::malformed,
                           "record " + std::to_string(i) + " is not a cairn row");
    s.records.push_back({std::string(key), std::string(value)});
  }
  if (r.left() != 0)
    return Status::error(ErrorCode::malformed, "snapshot has bytes after its last record");
  out = std::move(s);
  return {};
}

std::string_view record_table(std::string_view key) {
  constexpr std::string_view kPrefix = "/cairn/";
  if (key.substr(0, kPrefix.size()) != kPrefix) return {};
  key.remove_prefix(kPrefix.size());
  size_t slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0) return {};
  return key.substr(0, slash);
}

std::vector<TableStats> table_stats(const Snapshot& s) {
  std::vector<TableStats> out;
  for (const auto& r : s.records) {
    std::string_view table = record_table(r.key);
    auto it =
        std::find_if(out.begin(), out.end(), [&](const TableStats& t) { return t.table == table; });
    if (it == out.end()) it = out.insert(out.end(), TableStats{std::string(table), 0, 0});
    ++it->count;
    it->bytes += r.key.size() + r.value.size();
  }
  return out;
}

std::string snapshot_id(const Meta& m) {
  return std::to_string(m.term) + "-" + std::to_string(m.index) + "-" +
         std::to_string(m.created_unix_ms);
}

}  // namespace cairn::snapshot
