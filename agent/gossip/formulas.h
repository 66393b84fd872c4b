// memberlist's scaling formulas (util.go), shared by the core, the
// simulator's theory column and the tests.
#pragma once

#include "agent/gossip/types.h"

namespace cairn::gossip {

// SuspicionMult x max(1, log10(max(1, n))) x interval, with the product
// truncated to 1/1000 as Go's integer Duration arithmetic does.
Duration suspicion_timeout(int suspicion_mult, int n, Duration interval);

// Lifeguard: the timeout after c of k confirmations, elapsed since the start;
// max - ln(c+1)/ln(k+1) x (max - min), floored to ms, at least min.
Duration remaining_suspicion_time(int c, int k, Duration elapsed, Duration min, Duration max);

// RetransmitMult x ceil(log10(n + 1)).
int retransmit_limit(int retransmit_mult, int n);

// The push/pull interval grows by one multiple per doubling above 32 nodes.
Duration push_pull_scale(Duration interval, int n);

}  // namespace cairn::gossip
