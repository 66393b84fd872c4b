// The forwarder names the shared address types (common/net/address.h)
// unqualified, as they were born here.
#pragma once

#include "common/net/address.h"

namespace cairn::dnsfwd {

using net::address_text;
using net::Cidr;
using net::Endpoint;
using net::is_loopback;
using net::parse_cidr;
using net::parse_endpoint;
using net::same_address;

}  // namespace cairn::dnsfwd
