// Checks and completes a session that a client asked to create, before it is
// written: the defaults Consul fills in, the Behavior and TTL checks and
// cairn's input limits. The HTTP API (PUT /v1/session/create) and the server
// RPC share it so both refuse the same sessions with the same text.
#pragma once

#include <string>

#include "agent/ops/op_error.h"
#include "agent/state/rows.h"
#include "agent/state/session_ops.h"
#include "common/duration.h"

namespace cairn::ops {

// What an agent fills in for a session request that leaves it out.
struct SessionDefaults {
  std::string node;                       // this agent's node name
  Nanos ttl_min = state::kSessionTTLMin;  // the session_ttl_min setting
};

// Completes s and checks it; s is ready to write when no error is returned.
// node_checks_given says whether the request named its node checks at all:
// an explicit empty list turns off the serfHealth default, a missing one
// does not. LockDelay keeps the row default (15s) unless the request set it,
// since an explicit 0 means "no lock delay" and cannot be told apart here.
OpCheck validate_session_create(state::Session& s, bool node_checks_given,
                                const SessionDefaults& defaults);

}  // namespace cairn::ops
