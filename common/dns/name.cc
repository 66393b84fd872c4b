#include "common/dns/name.h"

#include "common/dns/ldns.h"

#include "common/dns/wire.h"

namespace cairn::dns {

bool walk_name(const uint8_t* msg, size_t len, size_t off, size_t& end, LabelStarts* starts) {
  size_t expanded = 0;  // bytes of the name once decompressed
  bool jumped = false;  // end is fixed at the first pointer
  size_t pos = off;
  // Everything read after a pointer must lie before that pointer: the name
  // it refers to is then wholly earlier in the message, so chains only move
  // backwards (no loops) and any prefix of a message keeps its names valid.
  size_t bound = len;
  for (int hops = 0; hops <= 127;) {
    if (pos >= bound) return false;
    uint8_t b = msg[pos];
    if (b == 0) {
      if (++expanded > kMaxNameWire) return false;
      if (!jumped) {
        end = pos + 1;
        if (starts) starts->mark(pos);
      }
      return true;
    }
    if ((b & 0xc0) == 0xc0) {
      if (pos + 1 >= bound) return false;
      size_t target = ((b & 0x3fu) << 8) | msg[pos + 1];
      if (target < kHeaderSize || target >= pos) return false;
      if (starts && !starts->test(target)) return false;
      if (!jumped) end = pos + 2;
      jumped = true;
      bound = pos;
      pos = target;
      ++hops;
      continue;
    }
    if (b & 0xc0) return false;  // 0x40 and 0x80 label types are obsolete or reserved
    if (starts && !jumped) starts->mark(pos);
    expanded += 1u + b;
    if (expanded > kMaxNameWire - 1) return false;  // leave room for the root label
    pos += 1u + b;
  }
  return false;
}

bool read_uncompressed_name(const uint8_t* msg, size_t len, size_t off, size_t& end,
                            LabelStarts* starts) {
  size_t pos = off;
  while (pos < len) {
    uint8_t b = msg[pos];
    if (starts) starts->mark(pos);
    if (b == 0) {
      if (pos + 1 - off > kMaxNameWire) return false;
      end = pos + 1;
      return true;
    }
    if (b > kMaxLabel) return false;
    pos += 1u + b;
    if (pos - off >= kMaxNameWire) return false;
  }
  return false;
}

bool is_subdomain(const uint8_t* name, size_t name_len, const uint8_t* suffix, size_t suffix_len) {
  if (suffix_len > name_len) return false;
  size_t pos = 0;
  while (name_len - pos > suffix_len) {
    pos += 1u + name[pos];
    if (pos >= name_len) return false;
  }
  return name_len - pos == suffix_len && equal_ci(name + pos, suffix, suffix_len);
}

std::string to_text(const uint8_t* name, size_t len) {
  std::string out;
  size_t pos = 0;
  while (pos < len && name[pos] != 0) {
    size_t n = name[pos++];
    for (size_t i = 0; i < n && pos < len; ++i, ++pos) {
      uint8_t c = name[pos];
      bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '*';
      if (plain) {
        out += static_cast<char>(c);
      } else if (c == '.' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else {
        char buf[5] = {'\\', static_cast<char>('0' + c / 100), static_cast<char>('0' + c / 10 % 10),
                       static_cast<char>('0' + c % 10), 0};
        out += buf;
      }
    }
    out += '.';
  }
  if (out.empty()) out = ".";
  return out;
}

bool from_text(std::string_view text, std::vector<uint8_t>& out, std::string& error) {
  if (text.empty()) {
    error = "empty domain name";
    return false;
  }
  std::string s(text);
  if (s.back() != '.') s += '.';
  ldns_rdf* rdf = nullptr;
  ldns_status st = ldns_str2rdf_dname(&rdf, s.c_str());
  if (st != LDNS_STATUS_OK || rdf == nullptr) {
    error = "invalid domain name \"" + std::string(text) + "\": " + ldns_get_errorstr_by_id(st);
    return false;
  }
  const uint8_t* data = ldns_rdf_data(rdf);
  size_t size = ldns_rdf_size(rdf);
  out.resize(size);
  fold_copy(data, size, out.data());
  ldns_rdf_deep_free(rdf);
  size_t end = 0;
  if (!read_uncompressed_name(out.data(), out.size(), 0, end) || end != out.size()) {
    error = "invalid domain name \"" + std::string(text) + "\"";
    return false;
  }
  return true;
}

bool name_to_wire(std::string_view text, std::string& out) {
  out.clear();
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  while (!text.empty()) {
    size_t dot = text.find('.');
    std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    out += static_cast<char>(label.size());
    out += label;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
    if (text.empty()) return false;  // "a..": an empty label
  }
  out += '\0';
  return out.size() <= kMaxNameWire;
}

}  // namespace cairn::dns
