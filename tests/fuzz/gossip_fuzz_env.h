// A gossip node for fuzzing: Serf over memberlist on a virtual clock, with a
// transport that drops everything it is asked to send.
#pragma once

#include <memory>

#include "agent/gossip/serf.h"
#include "agent/gossip/sim/sim_world.h"

namespace cairn::gossip::fuzz {

struct NullTransport : Transport {
  void send_packet(const Address&, Bytes) override {}
  void send_stream(const Address&, std::string, Duration, bool, StreamDone) override {}
};

// key: empty for plaintext. Built once per process: fuzzers call it per input.
inline Serf& fuzz_node(bool keyed) {
  static sim::SimWorld world;
  static sim::SimClock clock(world);
  static NullTransport transport;
  auto make = [](bool with_key) {
    SerfConfig sc;
    sc.node_name = "fuzz";
    // The node ID tag is what Serf query tag filters (regexes) are matched against.
    sc.tags = {{"role", "node"}, {"id", "01234567-89ab-4cde-8f01-23456789abcd"}};
    MemberlistConfig mc = MemberlistConfig::lan();
    mc.advertise = Address{0x7f000001, 7946};
    mc.seed = 1;
    std::shared_ptr<Keyring> ring;
    if (with_key) {
      ring = std::make_shared<Keyring>();
      ring->install(
          std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16));
    }
    auto s = std::make_unique<Serf>(sc, mc, clock, transport, ring);
    s->start();
    return s;
  };
  static std::unique_ptr<Serf> plain, keyed_node;
  // Inputs add members; a node that learned many gets slow (every push/pull
  // reply lists them all), so start over now and then.
  for (auto* slot : {&plain, &keyed_node}) {
    if (*slot && (*slot)->memberlist().num_nodes() > 32) slot->reset();
  }
  if (!plain) plain = make(false);
  if (!keyed_node) keyed_node = make(true);
  // Let timers run a little so probes, gossip and reaping code paths see
  // whatever state the inputs built up.
  world.run_until(world.now() + std::chrono::milliseconds(50));
  return keyed ? *keyed_node : *plain;
}

}  // namespace cairn::gossip::fuzz
