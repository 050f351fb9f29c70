// File: runtime/blocking.h
//
// The blocking forms of the public API are built from their callback forms with these two:
// refuse to block on a thread that runs the node's io_context, and wait for a callback's
// value.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
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

// One value handed from the thread that produces it to one thread waiting for it. The waiter
// sleeps on a futex: one wait and one wake per hand-off, no spinning with sched_yield (as
// std::atomic::wait does first) and no mutex and condition variable (as std::promise does).
template <typename T>
class Handoff {
 public:
  // Stores the value and wakes the waiter. Once.
  void Put(T value) {
    value_.emplace(std::move(value));
    if (state_.exchange(kDone, std::memory_order_acq_rel) == kSleeping) FutexWake();
  }
  // Waits for Put and returns its value.
  T Take() {
    uint32_t expected = kEmpty;
    if (state_.compare_exchange_strong(expected, kSleeping, std::memory_order_acq_rel)) {
      while (state_.load(std::memory_order_acquire) != kDone) FutexWait(kSleeping);
    }
    return *std::move(value_);
  }

 private:
  static constexpr uint32_t kEmpty = 0, kSleeping = 1, kDone = 2;
  void FutexWait(uint32_t expected) {
    // Returns at once if the state moved on; spurious wake-ups are re-checked by the caller.
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, expected, nullptr,
            nullptr, 0);
  }
  void FutexWake() {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
  }
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  std::atomic<uint32_t> state_{kEmpty};
  std::optional<T> value_;
};

// The callback Wait hands out: puts its argument into the hand-off. Destroyed unrun (the
// embedder destroyed its io_context under a waiting call), it puts Cancelled instead, so the
// waiter never hangs.
template <typename T>
class HandoffCallback {
 public:
  explicit HandoffCallback(std::shared_ptr<Handoff<T>> handoff) : handoff_(std::move(handoff)) {}
  HandoffCallback(HandoffCallback&&) noexcept = default;
  // Assigning over an unrun callback would leave its waiter waiting.
  HandoffCallback& operator=(HandoffCallback&&) = delete;
  ~HandoffCallback() {
    if (!handoff_) return;
    if constexpr (std::is_constructible_v<T, absl::Status>) {
      handoff_->Put(T(absl::CancelledError("the node's io_context went away")));
    } else {
      handoff_->Put(T{});
    }
  }
  void operator()(T value) { std::exchange(handoff_, nullptr)->Put(std::move(value)); }

 private:
  std::shared_ptr<Handoff<T>> handoff_;
};

// Runs `start(callback)` and waits for the callback's value.
template <typename T, typename Start>
T Wait(Start start) {
  auto handoff = std::make_shared<Handoff<T>>();
  start(HandoffCallback<T>(handoff));
  return handoff->Take();
}

}  // namespace lockmesh::runtime
