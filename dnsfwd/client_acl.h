// Who may ask: loopback always, other networks only when the config lists
// them, so the forwarder is never an open resolver even if it is made to
// listen on a routable address.
#pragma once

#include <vector>

#include "dnsfwd/address.h"

namespace cairn::dnsfwd {

class ClientAcl {
 public:
  ClientAcl() = default;
  ClientAcl(std::vector<Cidr> extra, bool allow_loopback)
      : extra_(std::move(extra)), allow_loopback_(allow_loopback) {}

  bool allows(const sockaddr* client) const {
    if (allow_loopback_ && is_loopback(client)) return true;
    for (const auto& c : extra_)
      if (c.contains(client)) return true;
    return false;
  }

 private:
  std::vector<Cidr> extra_;
  bool allow_loopback_ = true;
};

}  // namespace cairn::dnsfwd
