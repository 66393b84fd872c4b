// `cairn kv get|put|delete|export|import`, with consul kv's flags and output.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "agent/cli/client.h"
#include "agent/cli/commands.h"
#include "common/base64.h"
#include "common/files.h"
#include "common/http/url.h"
#include "common/json_writer.h"

namespace cairn::cli {

namespace {

// GET a KV path; 404 is "no such key" (returns true with found=false).
bool kv_read(const ApiClient& api, const std::string& target, Value& out, bool& found) {
  http::ClientResponse resp;
  std::string err;
  if (!api.request("GET", target, "", resp, err)) {
    fail("Error querying Consul agent: " + err);
    return false;
  }
  found = resp.status == 200;
  if (resp.status == 404) return true;
  if (resp.status != 200) {
    fail("Error querying Consul agent: Unexpected response code: " + std::to_string(resp.status) +
         " (" + resp.body + ")");
    return false;
  }
  ParseError perr;
  if (!parse_json(resp.body, out, perr)) {
    fail("Error decoding response: " + perr.message);
    return false;
  }
  return true;
}

// DATA, @file or - (stdin).
bool read_data(const std::string& arg, std::string& out) {
  if (arg == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  if (!arg.empty() && arg[0] == '@') {
    std::string err;
    if (!read_file(arg.substr(1), out, err)) {
      fail("Failed to read file: " + err);
      return false;
    }
    return true;
  }
  out = arg;
  return true;
}

bool put_value(const ApiClient& api, const std::string& target, const std::string& body,
               bool& result) {
  http::ClientResponse resp;
  std::string err;
  if (!api.request("PUT", target, body, resp, err)) {
    fail("Error! Failed writing data: " + err);
    return false;
  }
  if (resp.status != 200) {
    fail("Error! Failed writing data: Unexpected response code: " + std::to_string(resp.status) +
         " (" + resp.body + ")");
    return false;
  }
  result = resp.body.find("true") != std::string::npos;
  return true;
}

int kv_get(const ApiClient& api, const Args& args) {
  FlagSet f;
  if (auto e = parse_flags(args, {"recurse", "keys", "detailed", "base64"}, {"separator"}, f);
      !e.empty())
    return fail(e);
  std::string key = f.positional.empty() ? "" : f.positional[0];
  bool b64 = f.has("base64");
  Value v;
  bool found = false;
  if (f.has("keys")) {
    std::string q = kv_path(key) + "?keys";
    if (f.has("separator")) q += "&separator=" + http::percent_encode(f.get("separator"));
    else q += "&separator=/";
    if (!kv_read(api, q, v, found)) return 1;
    for (const auto& k : v.items) std::printf("%s\n", k.s.c_str());
    return 0;
  }
  if (f.has("recurse")) {
    if (!kv_read(api, kv_path(key) + "?recurse", v, found)) return 1;
    for (const auto& e : v.items) {
      std::string value = *base64_decode(str(e.find("value")));
      if (b64) value = base64_encode(value);
      std::printf("%s:%s\n", str(e.find("key")).c_str(), value.c_str());
    }
    return 0;
  }
  if (key.empty()) return fail("Error! Missing KEY argument");
  if (!kv_read(api, kv_path(key), v, found)) return 1;
  if (!found) return fail("Error! No key exists at: " + key);
  const Value& e = v.items.at(0);
  auto decoded = base64_decode(str(e.find("value")));
  std::string value = decoded ? *decoded : "";
  if (b64) value = base64_encode(value);
  if (f.has("detailed")) {
    std::vector<std::vector<std::string>> rows = {
        {"CreateIndex", std::to_string(num(e.find("createindex")))},
        {"Flags", std::to_string(num(e.find("flags")))},
        {"Key", str(e.find("key"))},
        {"LockIndex", std::to_string(num(e.find("lockindex")))},
        {"ModifyIndex", std::to_string(num(e.find("modifyindex")))},
        {"Session", str(e.find("session")).empty() ? "-" : str(e.find("session"))},
        {"Value", value}};
    std::printf("%s", columns(rows).c_str());
  } else {
    std::printf("%s\n", value.c_str());
  }
  return 0;
}

int kv_put(const ApiClient& api, const Args& args) {
  FlagSet f;
  if (auto e = parse_flags(args, {"cas", "base64", "acquire", "release"},
                           {"modify-index", "flags", "session"}, f);
      !e.empty())
    return fail(e);
  if (f.positional.empty()) return fail("Error! Missing KEY argument");
  std::string key = f.positional[0];
  std::string data;
  if (f.positional.size() > 1 && !read_data(f.positional[1], data)) return 1;
  if (f.has("base64")) {
    auto d = base64_decode(data);
    if (!d) return fail("Error! Cannot base 64 decode data");
    data = *d;
  }
  std::string q = kv_path(key) + "?";
  if (f.has("flags")) q += "flags=" + f.get("flags") + "&";
  if (f.has("cas")) {
    if (!f.has("modify-index")) return fail("Must specify -modify-index with -cas!");
    q += "cas=" + f.get("modify-index") + "&";
  }
  if (f.has("acquire")) q += "acquire=" + f.get("session") + "&";
  if (f.has("release")) q += "release=" + f.get("session") + "&";
  bool ok = false;
  if (!put_value(api, q, data, ok)) return 1;
  if (!ok) {
    if (f.has("cas")) return fail("Error! Did not write to " + key + ": CAS failed");
    if (f.has("acquire")) return fail("Error! Did not acquire lock");
    return fail("Error! Failed writing data to " + key);
  }
  if (f.has("acquire")) std::printf("Success! Lock acquired on: %s\n", key.c_str());
  else if (f.has("release")) std::printf("Success! Lock released on: %s\n", key.c_str());
  else std::printf("Success! Data written to: %s\n", key.c_str());
  return 0;
}

int kv_delete(const ApiClient& api, const Args& args) {
  FlagSet f;
  if (auto e = parse_flags(args, {"recurse", "cas"}, {"modify-index"}, f); !e.empty()) return fail(e);
  std::string key = f.positional.empty() ? "" : f.positional[0];
  if (key.empty() && !f.has("recurse")) return fail("Error! Missing KEY argument");
  std::string q = kv_path(key) + "?";
  if (f.has("recurse")) q += "recurse&";
  if (f.has("cas")) q += "cas=" + f.get("modify-index", "0") + "&";
  http::ClientResponse resp;
  std::string err;
  if (!api.request("DELETE", q, "", resp, err) || resp.status != 200)
    return fail("Error! Did not delete key " + key + ": " + (err.empty() ? resp.body : err));
  if (resp.body.find("true") == std::string::npos)
    return fail("Error! Did not delete key " + key + ": CAS failed");
  if (f.has("recurse"))
    std::printf("Success! Deleted keys with prefix: %s\n", key.c_str());
  else
    std::printf("Success! Deleted key: %s\n", key.c_str());
  return 0;
}

int kv_export(const ApiClient& api, const Args& args) {
  std::string prefix = args.empty() ? "" : args[0];
  Value v;
  bool found = false;
  if (!kv_read(api, kv_path(prefix) + "?recurse", v, found)) return 1;
  // consul kv export's format: pretty JSON, one object per key with base64 values.
  std::string out;
  JsonWriter w(out, true);
  w.begin_array();
  for (const auto& e : v.items) {
    w.begin_object();
    w.field("key", str(e.find("key")));
    w.field("flags", num(e.find("flags")));
    w.field("value", str(e.find("value")));
    w.end_object();
  }
  w.end_array();
  std::printf("%s\n", out.c_str());
  return 0;
}

int kv_import(const ApiClient& api, const Args& args) {
  FlagSet f;
  if (auto e = parse_flags(args, {}, {"prefix"}, f); !e.empty()) return fail(e);
  std::string data;
  if (!read_data(f.positional.empty() ? "-" : f.positional[0], data)) return 1;
  Value v;
  ParseError perr;
  if (!parse_json(data, v, perr) || !v.is_array())
    return fail("Error! Cannot unmarshal data: " + (perr.message.empty() ? "expected a JSON array" : perr.message));
  bool tty = isatty(STDERR_FILENO) == 1;
  size_t done = 0, total = v.items.size();
  for (const auto& e : v.items) {
    std::string key = f.get("prefix") + str(e.find("key"));
    auto value = base64_decode(str(e.find("value")));
    if (!value) return fail("Error! Cannot base 64 decode value of " + key);
    std::string q = kv_path(key) + "?flags=" + std::to_string(num(e.find("flags")));
    bool ok = false;
    if (!put_value(api, q, *value, ok) || !ok) return fail("Error! Failed writing data for key " + key);
    ++done;
    if (tty)
      std::fprintf(stderr, "\rImporting: %zu/%zu (%zu%%)", done, total, total ? done * 100 / total : 100);
    else
      std::printf("Imported: %s\n", key.c_str());
  }
  if (tty) std::fprintf(stderr, "\rImported %zu keys.%20s\n", done, "");
  return 0;
}

}  // namespace

int cmd_kv(Args args) {
  ApiClient api = ApiClient::from_args(args);
  if (args.empty()) return fail("Usage: cairn kv get|put|delete|export|import [options] KEY");
  std::string sub = args.front();
  args.erase(args.begin());
  if (sub == "get") return kv_get(api, args);
  if (sub == "put") return kv_put(api, args);
  if (sub == "delete") return kv_delete(api, args);
  if (sub == "export") return kv_export(api, args);
  if (sub == "import") return kv_import(api, args);
  return fail("Unknown kv subcommand \"" + sub + "\" (get, put, delete, export, import)");
}

}  // namespace cairn::cli
