// Gossip-related commands: join, force-leave, keygen, keyring, rtt, event.
#include <cmath>
#include <cstdio>

#include <openssl/rand.h>

#include "agent/cli/client.h"
#include "agent/cli/commands.h"
#include "common/base64.h"
#include "common/http/url.h"
#include "common/json_writer.h"

namespace cairn::cli {

namespace {

bool put(const ApiClient& api, const std::string& method, const std::string& target,
         const std::string& body, const std::string& what, std::string* out = nullptr) {
  http::ClientResponse resp;
  std::string err;
  if (!api.request(method, target, body, resp, err)) {
    fail("Error " + what + ": " + err);
    return false;
  }
  if (resp.status != 200) {
    fail("Error " + what + ": Unexpected response code: " + std::to_string(resp.status) + " (" +
         resp.body + ")");
    return false;
  }
  if (out) *out = resp.body;
  return true;
}

}  // namespace

int cmd_join(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto e = parse_flags(args, {"wan"}, {}, f); !e.empty()) return fail(e);
  if (f.positional.empty()) return fail("At least one address to join must be specified.");
  int joined = 0;
  for (const auto& addr : f.positional) {
    std::string target = "/v1/agent/join/" + http::percent_encode(addr);
    if (f.has("wan")) target += "?wan=1";
    if (put(api, "PUT", target, "", "joining the cluster")) joined++;
  }
  if (joined == 0) return 1;
  std::printf("Successfully joined cluster by contacting %d nodes.\n", joined);
  return 0;
}

int cmd_force_leave(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto e = parse_flags(args, {"prune", "wan"}, {}, f); !e.empty()) return fail(e);
  if (f.positional.size() != 1) return fail("A single node name must be specified to force leave.");
  std::string target = "/v1/agent/force-leave/" + http::percent_encode(f.positional[0]);
  if (f.has("prune")) target += "?prune=1";
  return put(api, "PUT", target, "", "force leaving") ? 0 : 1;
}

int cmd_keygen(Args) {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) return fail("Error reading random data");
  std::printf("%s\n", base64_encode(std::string_view(reinterpret_cast<char*>(key), sizeof key)).c_str());
  return 0;
}

int cmd_keyring(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto e = parse_flags(args, {"list", "list-primary"}, {"install", "use", "remove"}, f); !e.empty())
    return fail(e);
  auto body = [](const std::string& key) {
    std::string b;
    JsonWriter w(b);
    w.begin_object();
    w.field("Key", key);
    w.end_object();
    return b;
  };
  if (f.has("install")) {
    if (!put(api, "POST", "/v1/operator/keyring", body(f.get("install")), "installing key")) return 1;
    std::printf("==> Installing new gossip encryption key...\n");
    return 0;
  }
  if (f.has("use")) {
    if (!put(api, "PUT", "/v1/operator/keyring", body(f.get("use")), "changing primary key")) return 1;
    std::printf("==> Changing primary gossip encryption key...\n");
    return 0;
  }
  if (f.has("remove")) {
    if (!put(api, "DELETE", "/v1/operator/keyring", body(f.get("remove")), "removing key")) return 1;
    std::printf("==> Removing gossip encryption key...\n");
    return 0;
  }
  Value rings;
  if (!api.get_json("/v1/operator/keyring", rings)) return 1;
  std::printf("==> Gathering installed encryption keys...\n");
  for (const auto& ring : rings.items) {
    const Value* dc = ring.find("datacenter");
    const Value* n = ring.find("numnodes");
    const Value* wan = ring.find("wan");
    if (wan && wan->b)
      std::printf("\nWAN:\n");
    else
      std::printf("\n%s (LAN):\n", dc ? dc->s.c_str() : "");
    const Value* keys = ring.find(f.has("list-primary") ? "primarykeys" : "keys");
    if (keys)
      for (const auto& [k, v] : keys->fields)
        std::printf("  %s [%lld/%lld]\n", k.c_str(), static_cast<long long>(v.i),
                    static_cast<long long>(n ? n->i : 0));
  }
  return 0;
}

int cmd_rtt(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto e = parse_flags(args, {"wan"}, {}, f); !e.empty()) return fail(e);
  if (f.positional.empty() || f.positional.size() > 2)
    return fail("One or two node names must be specified");
  const bool wan = f.has("wan");
  std::string a = f.positional[0];
  std::string b;
  if (f.positional.size() == 2) {
    b = f.positional[1];
  } else {
    Value self;
    if (!api.get_json("/v1/agent/self", self)) return 1;
    const Value* cfg = self.find("config");
    b = cfg && cfg->find("nodename") ? cfg->find("nodename")->s : "";
    // On the WAN a server is "<node>.<dc>".
    if (wan && cfg && cfg->find("datacenter")) b += "." + cfg->find("datacenter")->s;
  }
  // LAN: /v1/coordinate/nodes; WAN: every datacenter's servers.
  Value coords;
  if (!api.get_json(wan ? "/v1/coordinate/datacenters" : "/v1/coordinate/nodes", coords)) return 1;
  std::vector<const Value*> entries;
  for (const auto& c : coords.items) {
    if (!wan) {
      entries.push_back(&c);
    } else if (const Value* list = c.find("coordinates")) {
      for (const auto& e : list->items) entries.push_back(&e);
    }
  }
  const Value *ca = nullptr, *cb = nullptr;
  for (const Value* c : entries) {
    const Value* n = c->find("node");
    if (n && n->s == a) ca = c->find("coord");
    if (n && n->s == b) cb = c->find("coord");
  }
  if (!ca) return fail("Could not find a coordinate for node \"" + a + "\"");
  if (!cb) return fail("Could not find a coordinate for node \"" + b + "\"");
  auto num = [](const Value* v) {
    if (!v) return 0.0;
    if (v->kind == Value::Kind::number) return v->d;
    if (v->kind == Value::Kind::integer) return static_cast<double>(v->i);
    return 0.0;
  };
  // Vivaldi distance: Euclidean over Vec plus both heights, with adjustments.
  const Value* va = ca->find("vec");
  const Value* vb = cb->find("vec");
  double sum = 0;
  for (size_t i = 0; va && vb && i < va->items.size() && i < vb->items.size(); ++i) {
    double d = num(&va->items[i]) - num(&vb->items[i]);
    sum += d * d;
  }
  double dist = std::sqrt(sum) + num(ca->find("height")) + num(cb->find("height"));
  double adjusted = dist + num(ca->find("adjustment")) + num(cb->find("adjustment"));
  if (adjusted > 0) dist = adjusted;
  std::printf("Estimated %s <-> %s rtt: %.3f ms (using %s coordinates)\n", a.c_str(), b.c_str(),
              dist * 1000.0, wan ? "WAN" : "LAN");
  return 0;
}

int cmd_event(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto e = parse_flags(args, {}, {"name", "node", "service", "tag"}, f); !e.empty()) return fail(e);
  if (!f.has("name")) return fail("Event name must be specified");
  std::string q = "/v1/event/fire/" + http::percent_encode(f.get("name")) + "?";
  for (const char* k : {"node", "service", "tag"})
    if (f.has(k)) q += std::string(k) + "=" + http::percent_encode(f.get(k)) + "&";
  std::string payload = f.positional.empty() ? "" : f.positional[0];
  std::string out;
  if (!put(api, "PUT", q, payload, "firing event", &out)) return 1;
  Value v;
  ParseError perr;
  parse_json(out, v, perr);
  std::printf("Event ID: %s\n", v.find("id") ? v.find("id")->s.c_str() : "");
  return 0;
}

}  // namespace cairn::cli
