// Service and check definitions as users write them: YAML files in
// services.d (snake_case), Consul JSON config files, and the bodies of
// /v1/agent/service/register and /v1/agent/check/register (PascalCase).
// One decoder serves all of them (keys match case-insensitively, with or
// without underscores) and validates what Consul validates.
#pragma once

#include <string>
#include <vector>

#include "agent/state/input_limits.h"
#include "agent/state/rows.h"
#include "common/decode.h"
#include "common/value.h"

namespace cairn::config {

struct CheckSpec {
  std::string id;  // "" until defaulted (Name, or service:<id>[:n] when embedded)
  std::string name;
  std::string notes;
  std::string status;  // initial status; "" means critical
  std::string service_id;
  std::string token;
  // Shared with the check's catalog row.
  state::SharedCheckDefinition def;
  int line = 0;  // where it was defined, for messages

  // Consul's type name: ttl, http, tcp, udp, grpc, h2ping, script, docker, alias.
  std::string type() const;
};

struct ServiceDefinition {
  state::Service service;  // node unset; id defaults to the name
  std::vector<CheckSpec> checks;
  std::string token;
  std::string file;  // source file for config-defined services, else ""
  int line = 0;
};

// Limits Consul enforces on metadata.
using state::kMaxMetaKeyLength;
using state::kMaxMetaPairs;
using state::kMaxMetaValueLength;

// Decodes one service object. Throws DecodeError naming the field.
ServiceDefinition decode_service(Decoder& d, const Value& v);
// A service's Locality object ({Region, Zone}); null is none.
state::Locality decode_locality(Decoder& d, const Value& v);
// Decodes one check object (standalone or embedded in a service).
CheckSpec decode_check(Decoder& d, const Value& v);

// Validation Consul applies at registration; the message names the field.
// Fills defaulted IDs/names of embedded checks. Returns "" when valid.
std::string validate_service(ServiceDefinition& def);
// Consul's ValidateWeights: "" or why (its words, which clients match).
std::string validate_weights(const state::Weights& w);
// The size limits of state/input_limits.h on a service and its checks, or on
// one check; validate_service and validate_check apply them too.
state::LimitCheck check_definition_limits(const ServiceDefinition& def);
state::LimitCheck check_spec_limits(std::string_view field, const CheckSpec& check);
std::string validate_check(CheckSpec& check, bool standalone);

}  // namespace cairn::config
