#include "agent/checks/tls_client.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>

#include "agent/checks/check_target.h"
#include "agent/checks/go_text.h"

namespace cairn::checks {

TlsContexts::~TlsContexts() {
  for (auto& row : contexts_)
    for (SSL_CTX*& c : row)
      if (c) SSL_CTX_free(c);
}

void TlsContexts::configure(std::string ca_file, std::string ca_path) {
  ca_file_ = std::move(ca_file);
  ca_path_ = std::move(ca_path);
  for (auto& row : contexts_)
    for (SSL_CTX*& c : row)
      if (c) {
        SSL_CTX_free(c);
        c = nullptr;
      }
}

SSL_CTX* TlsContexts::get(bool verify, Alpn alpn, std::string* error) {
  SSL_CTX*& slot = contexts_[verify][alpn == Alpn::h2];
  if (slot) return slot;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    if (error) *error = "tls: cannot create a TLS context";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);  // Go's client default
  // No session cache: Consul makes a fresh connection (and handshake) every run.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Many servers close without close_notify; the response is complete all the same.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (verify) {
    bool ok = true;
    if (!ca_file_.empty() || !ca_path_.empty()) {
      ok = SSL_CTX_load_verify_locations(ctx, ca_file_.empty() ? nullptr : ca_file_.c_str(),
                                         ca_path_.empty() ? nullptr : ca_path_.c_str()) == 1;
    } else {
      ok = SSL_CTX_set_default_verify_paths(ctx) == 1;
    }
    if (!ok) {
      unsigned long e = ERR_get_error();
      ERR_clear_error();
      if (error)
        *error = "tls: loading CA certificates: " +
                 std::string(e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "error"
                               : "error");
      SSL_CTX_free(ctx);
      return nullptr;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  static const unsigned char kH2[] = {2, 'h', '2'};
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  if (alpn == Alpn::h2)
    SSL_CTX_set_alpn_protos(ctx, kH2, sizeof kH2);
  else
    SSL_CTX_set_alpn_protos(ctx, kHttp11, sizeof kHttp11);
  slot = ctx;
  return ctx;
}

SSL* tls_new_session(const TlsTarget& target, int fd) {
  SSL* ssl = SSL_new(target.ctx);
  if (!ssl) return nullptr;
  SSL_set_fd(ssl, fd);
  const std::string& name = target.server_name;
  bool ip = is_ip_literal(name);
  // Go sends no SNI for IP addresses, and verifies them against IP SANs.
  if (!name.empty() && !ip) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (target.verify && !name.empty()) {
    if (ip)
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    else
      SSL_set1_host(ssl, name.c_str());
  }
  SSL_set_connect_state(ssl);
  return ssl;
}

namespace {

std::string verify_text(long result, const std::string& name) {
  switch (result) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "x509: certificate signed by unknown authority";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "x509: certificate is not valid for " + name;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "x509: certificate has expired or is not yet valid";
    default:
      return std::string("x509: ") + X509_verify_cert_error_string(result);
  }
}

}  // namespace

std::string tls_handshake_error(SSL* ssl, int ssl_error, int saved_errno,
                                const std::string& server_name) {
  long verify = SSL_get_verify_result(ssl);
  unsigned long e = ERR_peek_error();
  std::string out;
  if (verify != X509_V_OK && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    out = "tls: failed to verify certificate: " + verify_text(verify, server_name);
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    out = saved_errno ? "read: " + errno_text(saved_errno) : "EOF";
  } else if (e) {
    const char* reason = ERR_reason_error_string(e);
    out = std::string("tls: ") + (reason ? reason : "handshake failure");
  } else {
    out = "tls: handshake failure";
  }
  ERR_clear_error();
  return out;
}

}  // namespace cairn::checks
