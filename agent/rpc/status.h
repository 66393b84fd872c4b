// The result of an RPC as both ends see it: a code and a human message.
//
// The split the caller's retry logic needs is in the codes, not the text:
// `unavailable` and `timeout` mean the request never left this process, so
// any call may be retried elsewhere; `unknown_outcome` means it was written
// and may have run, so only idempotent calls may be retried. The code travels
// on the wire as its name (header cairn-status), so names are stable.
#pragma once

#include <string>
#include <string_view>

namespace cairn::rpc {

struct Status {
  enum class Code {
    ok,
    cancelled,          // this side gave up on the call (stream cancelled, connection closed)
    unavailable,        // not sent: connect failed, connection lost before writing, refused
    unknown_outcome,    // sent, then the connection dropped or the deadline passed
    timeout,            // the deadline passed before the request was written
    too_large,          // a request, response or message over max_message_bytes
    exhausted,          // a limit: connections, buffered bytes, a stream nobody reads
    bad_request,        // malformed call (method, headers)
    not_found,          // no such method
    version_mismatch,   // the peer speaks another cairn-rpc version (or is not cairn)
    permission_denied,  // the token does not allow it (ACLs)
    internal,           // a bug or an unexpected answer
  };

  Code code = Code::ok;
  std::string message;

  Status() = default;
  Status(Code c, std::string msg = {}) : code(c), message(std::move(msg)) {}

  bool ok() const { return code == Code::ok; }
  // The request certainly did not run: safe to retry anywhere.
  bool not_sent() const { return code == Code::unavailable || code == Code::timeout; }
  // "unknown_outcome: connection closed after the request was sent"
  std::string to_string() const;
};

std::string_view code_name(Status::Code code);
// The wire name back to a code; false for a name this version does not know.
bool parse_code(std::string_view name, Status::Code& out);

}  // namespace cairn::rpc
