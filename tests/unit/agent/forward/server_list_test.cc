#include "agent/forward/server_list.h"

#include <doctest/doctest.h>

#include <map>

using cairn::forward::ServerEntry;
using cairn::forward::ServerList;

namespace {

std::vector<ServerEntry> three() {
  return {{"s0", "10.0.0.1", 8300, -1}, {"s1", "10.0.0.2", 8300, -1}, {"s2", "10.0.0.3", 8300, -1}};
}

}  // namespace

TEST_CASE("clients spread over the servers and keep their choice across updates") {
  std::map<std::string, int> first;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    ServerList list(seed);
    list.update(three());
    std::string chosen = list.current()->name;
    list.update(three());  // the same servers gossiped again: no change
    CHECK(list.current()->name == chosen);
    first[chosen]++;
  }
  REQUIRE(first.size() == 3);
  for (const auto& [name, n] : first) CHECK(n > 60);  // about 100 each
}

TEST_CASE("a failed server goes last; a gone server is dropped; a new one is added") {
  ServerList list(1);
  list.update(three());
  std::string a = list.current()->name;
  list.failed(a);
  CHECK(list.current()->name != a);
  CHECK(list.servers().back().name == a);
  auto fewer = three();
  std::erase_if(fewer, [&](const ServerEntry& s) { return s.name == list.current()->name; });
  list.update(fewer);
  CHECK(list.servers().size() == 2);
  fewer.push_back({"s9", "10.0.0.9", 8300, -1});
  list.update(fewer);
  CHECK(list.servers().size() == 3);
  list.update({});
  CHECK(list.current() == nullptr);
}

TEST_CASE("a nearer server comes first; servers within one RTT bucket stay shuffled") {
  std::map<std::string, int> first;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    ServerList list(seed);
    list.update({{"far", "10.0.1.1", 8300, 40.0},
                 {"near-a", "10.0.0.1", 8300, 0.3},
                 {"near-b", "10.0.0.2", 8300, 0.6},
                 {"unknown", "10.0.0.3", 8300, -1}});
    first[list.current()->name]++;
    CHECK(list.servers().back().name == "unknown");
    list.rebalance();
    CHECK(list.current()->name.rfind("near-", 0) == 0);
  }
  CHECK(first.count("far") == 0);
  CHECK(first["near-a"] > 20);
  CHECK(first["near-b"] > 20);
}

TEST_CASE("the rebalance period scales with the datacenter, at least two minutes") {
  CHECK(ServerList::rebalance_interval_ms(3, 50, 0.0) == 120'000);
  // 100,000 clients over 3 servers at 64 conns/s/server: 520 s.
  CHECK(ServerList::rebalance_interval_ms(3, 100'000, 0.0) == 520'833);
  CHECK(ServerList::rebalance_interval_ms(3, 50, 0.5) == 180'000);
}
