// File: runtime/blocking.h
//
// The blocking forms of the public API are built from their callback forms with these two:
// refuse to block on a thread that runs the node's io_context, and wait for a callback's
// value.
#pragma once

#include <future>
#include <memory>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "lib/runtime/engine.h"

namespace lockmesh::runtime {

// FailedPrecondition on a thread that runs the node's io_context (the call would wait on
// itself), OK elsewhere.
inline absl::Status NotOnIoThread(const Engine& engine) {
  if (!engine.InIoThread()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "a blocking lockmesh call on a thread that runs the node's io_context would wait on "
      "itself; use the callback or completion-token form");
}

// Runs `start(callback)` and waits for the callback's value. If the callback is destroyed
// unrun (the embedder destroyed its io_context under a waiting call), the call ends
// Cancelled rather than throwing.
template <typename T, typename Start>
T Wait(Start start) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> future = promise->get_future();
  start([promise](T value) { promise->set_value(std::move(value)); });
  try {
    return future.get();
  } catch (const std::future_error&) {
    if constexpr (std::is_constructible_v<T, absl::Status>) {
      return T(absl::CancelledError("the node's io_context went away"));
    } else {
      return T{};
    }
  }
}

}  // namespace lockmesh::runtime
