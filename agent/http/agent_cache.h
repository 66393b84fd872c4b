// Consul's agent cache, as its clients see it. With ?cached, Consul answers
// some reads from a cache in the agent and says so: X-Cache: HIT (with Age,
// the entry's age in seconds) or MISS. cairn reads every answer from its own
// store, current to the index it reports, so a cached read is always a hit
// of age 0; reads Consul does not cache get no such headers, as in Consul.
#pragma once

#include <string_view>

#include "common/http/message.h"

namespace cairn::http_api {

// Whether Consul's agent cache serves GET path with ?cached.
bool consul_caches(std::string_view path);

// Adds X-Cache and Age to the answer of a read that asked for ?cached.
void add_agent_cache_headers(const http::Request& req, http::Response& resp);

}  // namespace cairn::http_api
