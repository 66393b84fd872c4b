// The server's method table: method name -> unary or stream handler.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "agent/rpc/server_call.h"

namespace cairn::rpc {

struct Route {
  UnaryHandler unary;  // one of the two is set
  StreamHandler stream;
};

class Router {
 public:
  void add(std::string method, UnaryHandler handler) {
    routes_[std::move(method)] = Route{std::move(handler), {}};
  }
  void add_stream(std::string method, StreamHandler handler) {
    routes_[std::move(method)] = Route{{}, std::move(handler)};
  }
  const Route* find(std::string_view method) const {
    auto it = routes_.find(method);
    return it == routes_.end() ? nullptr : &it->second;
  }

 private:
  // Pointers to routes stay valid while methods are added (node-based map).
  std::map<std::string, Route, std::less<>> routes_;
};

}  // namespace cairn::rpc
