// gRPC checks (grpc.health.v1.Health/Check) and H2PING checks: one HTTP/2
// connection per run, spoken with Debian's libnghttp2 over a ProbeConnection
// (cleartext with prior knowledge, or TLS with ALPN "h2" when grpc_use_tls /
// h2ping_use_tls). The target is Consul's "host:port[/service]". SERVING is
// passing, anything else critical, with grpc-go's error texts.
#pragma once

#include <nghttp2/nghttp2.h>

#include <string>

#include "agent/checks/check_target.h"
#include "agent/checks/grpc_wire.h"
#include "agent/checks/interval_check.h"
#include "agent/checks/probe_connection.h"

namespace cairn::checks {

class GrpcCheck : public IntervalCheck, private ProbeConnection::Owner {
 public:
  enum class Mode { health, ping };
  GrpcCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def, Mode mode);
  ~GrpcCheck() override;

 private:
  // IntervalCheck
  void probe() override;
  void timed_out() override;
  // ProbeConnection::Owner
  void on_connected() override;
  void on_ready() override;
  void on_connect_failed(const std::string& error) override;

  // Moves bytes both ways until the socket would block; false once the run ended.
  bool pump();
  bool flush();
  void conclude();
  void fail_rpc(std::string_view code, const std::string& desc);
  void end_session();

  static const nghttp2_session_callbacks* callbacks();
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                       void* user);
  static int on_data(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                     size_t len, void* user);
  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user);
  static ssize_t read_request(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                              uint32_t* flags, nghttp2_data_source* source, void* user);

  const Mode mode_;
  std::string target_;  // as configured, for outputs
  std::string server_;  // host:port, the :authority
  std::string service_;
  HostPort host_port_;
  std::string config_error_;
  bool use_tls_ = false;
  bool tls_skip_verify_ = false;
  std::string tls_server_name_;
  bool literal_ = false;
  AddressList addresses_;
  std::string request_;  // the gRPC message, built once
  std::string path_header_ = "/grpc.health.v1.Health/Check";
  std::string timeout_header_;

  // This run.
  TlsTarget tls_;
  HostResolver resolver_;
  ProbeConnection conn_;
  nghttp2_session* session_ = nullptr;
  int32_t stream_id_ = -1;
  size_t request_off_ = 0;
  std::string pending_;  // session output the socket did not take yet
  size_t pending_off_ = 0;
  int http_status_ = 0;
  int grpc_status_ = -1;
  std::string grpc_message_;
  HealthResponseReader reader_;
  bool stream_closed_ = false;
  uint32_t stream_error_ = 0;
  bool ping_acked_ = false;
  std::string output_;
};

}  // namespace cairn::checks
