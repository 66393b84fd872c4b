#include "agent/checks/go_text.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <cstring>

namespace cairn::checks {

std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r returns the message, which may not be buf.
  std::string out = strerror_r(err, buf, sizeof buf);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

std::string go_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through, as Go prints printable runes
        }
    }
  }
  out += '"';
  return out;
}

std::string url_error_op(std::string_view method) {
  std::string op(method);
  for (size_t i = 1; i < op.size(); ++i)
    op[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(op[i])));
  return op;
}

std::string address_text(const SocketAddress& addr) {
  char ip[INET6_ADDRSTRLEN] = "";
  if (addr.family() == AF_INET6) {
    inet_ntop(AF_INET6, &addr.v6.sin6_addr, ip, sizeof ip);
    return std::string("[") + ip + "]:" + std::to_string(ntohs(addr.v6.sin6_port));
  }
  inet_ntop(AF_INET, &addr.v4.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(addr.v4.sin_port));
}

}  // namespace cairn::checks
