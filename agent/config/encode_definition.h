// Service and check definitions back to Consul's registration JSON. The data
// dir keeps API-registered services in this form, read back by the same
// decoder that reads /v1/agent/service/register bodies.
#pragma once

#include "agent/config/service_definition.h"
#include "common/json_writer.h"

namespace cairn::config {

void write_service_definition(JsonWriter& w, const ServiceDefinition& def);
void write_check_spec(JsonWriter& w, const CheckSpec& c);

}  // namespace cairn::config
