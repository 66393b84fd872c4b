// memberlist's tunables and its three timing profiles (DefaultLANConfig,
// DefaultWANConfig, DefaultLocalConfig in hashicorp/memberlist config.go).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/gossip/types.h"

namespace cairn::gossip {

// How much inbound TCP stream traffic a node takes on at once. Connections
// over the counts are closed as soon as they are accepted; a stream whose
// message would exceed max_message_bytes, or whose bytes would take all
// streams' buffers past max_buffered_bytes, is closed when that is known.
struct StreamLimits {
  size_t max_streams = 128;            // open inbound streams, all sources
  size_t max_streams_per_source = 16;  // from one IP address
  // The largest stream message (push/pull, user message, or its encrypted or
  // compressed frame) buffered before it is whole. memberlist's real messages:
  // a push/pull carries every member as a pushNodeState of ~200-350 bytes
  // with Consul's tags (at most ~720: a 128-byte name, 512 bytes of meta, the
  // field names), plus Serf's user state (each member's status time, ~20-140
  // bytes, and the event ring: at most 512 user events of at most 512 bytes,
  // ~300 KB). 8 MiB holds 10,000 members at the worst size, uncompressed;
  // memberlist always compresses streams (LZW, 2-4x on this msgpack), so real
  // pools several times larger fit too. memberlist itself allows 20 MiB.
  size_t max_message_bytes = 8 * 1024 * 1024;
  // Bytes buffered by all inbound streams together: what many slow senders
  // can pin at once (a real node has one or two push/pulls in flight).
  size_t max_buffered_bytes = 64 * 1024 * 1024;
};

struct MemberlistConfig {
  std::string name;
  Address advertise;  // where peers reach us over UDP and TCP

  Duration tcp_timeout = 10s;
  int indirect_checks = 3;
  int retransmit_mult = 4;
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 6;
  Duration push_pull_interval = 30s;  // 0 disables periodic push/pull
  Duration probe_interval = 1s;
  Duration probe_timeout = 500ms;
  bool disable_tcp_pings = false;
  int awareness_max_multiplier = 8;
  int gossip_nodes = 3;
  Duration gossip_interval = 200ms;
  Duration gossip_to_the_dead_time = 30s;
  bool gossip_verify_incoming = true;
  bool gossip_verify_outgoing = true;
  bool enable_compression = true;
  size_t udp_buffer_size = 1400;
  Duration dead_node_reclaim_time = 0s;  // 0: never (Consul sets 30 s)
  std::string label;
  bool skip_inbound_label_check = false;
  // Bounded handoff for alive/suspect/dead/user work, as HandoffQueueDepth.
  size_t handoff_queue_depth = 1024;

  // Beyond memberlist: bounds on inbound TCP streams, which are read before
  // the sender is known or (with encryption) authenticated. memberlist
  // accepts any number of connections and reads each until its 20 MiB
  // maxPushStateBytes; it only caps concurrent push/pull *handling* at 128.
  StreamLimits streams;

  uint8_t protocol_version = kProtocolCur;
  // Delegate (Serf) protocol range and version: 0 0 0 for plain memberlist.
  uint8_t delegate_min = 0, delegate_max = 0, delegate_cur = 0;

  // Beyond memberlist: the first probe cycle visits members in a freshly
  // shuffled order instead of insertion order (memberlist only shuffles at
  // the first wrap-around, which makes first detections slow after a bulk
  // start). Wire-compatible either way.
  bool shuffle_first_cycle = true;

  // Seed for this node's random choices; 0 picks one from the OS. The
  // simulator sets it so runs repeat exactly.
  uint64_t seed = 0;

  Vsn vsn() const {
    return {kProtocolMin, kProtocolMax, protocol_version, delegate_min, delegate_max, delegate_cur};
  }

  static MemberlistConfig lan();
  static MemberlistConfig wan();
  static MemberlistConfig local();
  // "lan", "wan" or "local"; false for anything else.
  static bool profile(std::string_view name, MemberlistConfig& out);
};

}  // namespace cairn::gossip
