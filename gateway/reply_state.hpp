#pragma once
// The transport's side of Reply: one State per request, shared by the Reply copies.
#include <atomic>

#include <boost/json/object.hpp>

#include "gateway/application.hpp"

namespace ipx::gateway {

struct Reply::State {
  virtual ~State() = default;
  // Called once, from any thread, with the JSON text of {"result": ...} or {"error": ...}.
  virtual void deliver(std::string body_json) = 0;
  std::atomic<bool> replied{false};
};

}  // namespace ipx::gateway
