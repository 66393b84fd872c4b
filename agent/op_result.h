// The outcome of an agent operation (register, deregister, maintenance),
// shaped for HTTP: 200 or an error status and text.
#pragma once

#include <functional>
#include <string>
#include <utility>

namespace cairn {

struct OpResult {
  int status = 200;
  std::string message;
  bool ok() const { return status == 200; }
  static OpResult error(int status, std::string message) { return {status, std::move(message)}; }
};
using OpDone = std::function<void(OpResult)>;

}  // namespace cairn
