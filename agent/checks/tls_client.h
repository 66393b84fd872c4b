// The OpenSSL client side of HTTPS and gRPC checks. One SSL_CTX per
// (verify, ALPN) combination is shared by every check; it trusts the agent's
// CA (tls.ca_file / tls.ca_path) when one is configured and the system's
// roots otherwise, as Consul's check TLS config does.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace cairn::checks {

enum class Alpn { http1, h2 };

class TlsContexts {
 public:
  TlsContexts() = default;
  ~TlsContexts();
  TlsContexts(const TlsContexts&) = delete;
  TlsContexts& operator=(const TlsContexts&) = delete;

  // Where the agent's CA lives; takes effect for contexts made afterwards.
  void configure(std::string ca_file, std::string ca_path);
  // The shared context, made on first use; nullptr with error when the CA can't be loaded.
  SSL_CTX* get(bool verify, Alpn alpn, std::string* error);

 private:
  SSL_CTX* contexts_[2][2] = {};
  std::string ca_file_, ca_path_;
};

// What one connection verifies and announces.
struct TlsTarget {
  SSL_CTX* ctx = nullptr;
  std::string server_name;  // SNI (unless an IP literal) and the name verified
  bool verify = true;
};

// A new SSL for fd with SNI and host (or IP) verification set up; nullptr on failure.
SSL* tls_new_session(const TlsTarget& target, int fd);
// Why a handshake failed, in Go's words ("tls: failed to verify certificate: x509: ...").
std::string tls_handshake_error(SSL* ssl, int ssl_error, int saved_errno,
                                const std::string& server_name);

}  // namespace cairn::checks
