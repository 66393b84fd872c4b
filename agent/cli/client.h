// What every CLI subcommand shares: the agent's HTTP address and token (from
// -http-addr/-token, then CAIRN_HTTP_*, then CONSUL_HTTP_*), requests with
// Consul's error handling, and output helpers (colour only on a terminal).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/blocking_client.h"
#include "common/value.h"

namespace cairn::cli {

struct ApiClient {
  std::string address = "127.0.0.1:8500";
  std::string token;
  std::string token_file;  // -token-file / CONSUL_HTTP_TOKEN_FILE
  // Set when a request must not be made: a TLS setting (-ca-file, -client-cert,
  // CONSUL_CACERT, https://...) the plain-text client cannot honour.
  std::string refusal;

  // Removes -http-addr/-token/-token-file and Consul's TLS flags from args;
  // the TLS flags make every request fail with refusal.
  static ApiClient from_args(std::vector<std::string>& args);

  // Performs a request; false (and error) when the agent could not be reached.
  bool request(const std::string& method, const std::string& target, const std::string& body,
               http::ClientResponse& resp, std::string& error, int timeout_ms = 30'000) const;
  // GET of a streamed answer (/v1/agent/monitor): a 200 body goes to on_body
  // as it arrives, with no deadline, until the agent ends it or on_body
  // returns false; any other status leaves its body in resp.
  bool stream(const std::string& target, const std::function<bool(std::string_view)>& on_body,
              http::ClientResponse& resp, std::string& error) const;
  // GET that must answer 200 with JSON; prints the error and returns false otherwise.
  bool get_json(const std::string& target, Value& out) const;
};

// Writes "Error ...: message" to stderr; returns exit status 1.
int fail(const std::string& message);
bool stdout_is_terminal();
// ANSI colour when stdout is a terminal (and NO_COLOR is unset).
std::string colour(const std::string& text, const char* code);
// Aligns rows of cells into columns separated by two spaces.
std::string columns(const std::vector<std::vector<std::string>>& rows);

// Fields of API answers: the text of a string, number or boolean, and an
// unsigned number; "" and 0 when absent or of another kind.
std::string str(const Value* v);
uint64_t num(const Value* v);
// /v1/kv/<key>, the key percent-encoded with its slashes kept.
std::string kv_path(const std::string& key);

// Simple flag parsing for subcommands: "-name", "-name=value", "-name value".
struct FlagSet {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> values;
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& name) const;
};
// known_bool: flags without values. Returns "" or an error.
std::string parse_flags(const std::vector<std::string>& args,
                        const std::vector<std::string>& known_bool,
                        const std::vector<std::string>& known_value, FlagSet& out);

}  // namespace cairn::cli
