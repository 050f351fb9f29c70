// File: lockmesh/lease.h
//
// A lease on a named resource, as the API hands it out: the resource, the fencing token and
// the deadline, kept alive in the background if asked, released when the guard goes away.
//
//   absl::StatusOr<lockmesh::Lease> lease =
//       node->Acquire("orders/42", {.duration = 10s, .wait = 2s, .auto_renew = true});
//   if (!lease.ok()) return lease.status();     // DeadlineExceeded, Unavailable, ...
//   store.Write(key, value, lease->token());     // the store refuses tokens older than its last
//   ...                                         // lease->lost() turns true before the deadline
//   // ~Lease releases it.
//
// The token is the fencing token: strictly greater than the token of every earlier lease on
// the same resource. Pass it to whatever the lock protects, and have that refuse writes that
// carry a smaller token than one it has seen: a holder paused past its deadline then cannot
// corrupt anything.
//
// Thread safety: a Lease is a move-only handle; its const methods may be called from any
// thread, also while the node renews it. Renew(), Release() and destruction may run on any
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"

namespace lockmesh {
namespace runtime {
class Engine;
class LeaseState;
}  // namespace runtime

// Cancels the acquires it was passed to. Copies share one signal. Thread-safe.
class CancelSignal {
 public:
  CancelSignal();
  // Every acquire that was given this signal and is still waiting ends with Cancelled. Leases
  // already granted are not affected. Idempotent; later acquires with it end at once.
  void Cancel() const;
  bool cancelled() const;

 private:
  friend class runtime::Engine;
  // Runs `fn` once, on Cancel() (or now if cancelled already). Returns an id for Unregister.
  uint64_t Register(std::function<void()> fn) const;
  void Unregister(uint64_t id) const;
  // False while this is the only copy of the signal: nobody else can cancel it, so an acquire
  // need not register with it.
  bool shared() const { return shared_.use_count() > 1; }

  struct Shared;
  std::shared_ptr<Shared> shared_;
};

struct AcquireOptions {
  // How long the lease lasts from its grant (D), within [100 ms, NodeOptions::lease_duration_max].
  std::chrono::milliseconds duration{10'000};
  // How long the request may wait while others hold the lease; zero makes a try-acquire
  // (Node::TryAcquire says how repeated tries are spaced).
  // A waiter is woken by the voters' release notice, not by polling.
  std::chrono::milliseconds wait{10'000};
  // Renew in the background (at half the remaining time) until released, lost, or
  // `hold_max` after the grant.
  bool auto_renew = false;
  // The cap on total hold time with auto_renew; zero for none.
  std::chrono::milliseconds hold_max{0};
  // The lease is reported lost this long before its deadline if it has not been renewed past
  // it. Zero: a tenth of the duration.
  std::chrono::milliseconds loss_margin{0};
  // Called once, on the node's executor, when the lease is reported lost (renewal failed,
  // hold cap reached, deadline close). Must not block.
  std::function<void(const absl::Status&)> on_lost;
  // Ends the acquire with Cancelled while it waits.
  CancelSignal cancel;
};

class Lease {
 public:
  // An empty lease: no resource, token 0, not valid.
  Lease() = default;
  Lease(Lease&&) noexcept = default;
  // Releases the lease this one held before taking `other`'s.
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  // Releases the lease if it is still held.
  ~Lease();

  // The resource, as acquired.
  const std::string& resource() const;
  // The fencing token (0 for an empty lease).
  uint64_t token() const;
  // When the lease ends unless renewed, on this process's steady clock. Moves with renewals.
  std::chrono::steady_clock::time_point deadline() const;
  // True once the node reported the lease lost (before its deadline), or it expired.
  bool lost() const;
  // Held: not released, not lost, and the deadline not passed.
  bool valid() const;
  explicit operator bool() const { return valid(); }

  // Renews the lease now: on success the deadline moves to `duration` after the voters
  // accepted (zero: the duration it was acquired or last renewed with), and later background
  // renewals (auto_renew) use that duration. Blocking: waits for a majority of voters, at
  // most about the node's attempt timeout. Returns
  //   OK                  renewed; deadline() has moved;
  //   InvalidArgument     `duration` outside [100 ms, NodeOptions::lease_duration_max];
  //   FailedPrecondition  the lease is not held (released, lost, expired, empty), the hold cap
  //                       allows no more time, or called on a thread that runs the node's
  //                       io_context;
  //   Unavailable         the renewal did not reach a majority: the lease still holds until
  //                       its deadline (an auto_renew lease keeps trying; otherwise call again).
  // A renewal already on its way (auto_renew) answers the call; it carries the old duration.
  absl::Status Renew(std::chrono::milliseconds duration = std::chrono::milliseconds{0});
  // The callback form: `done` runs once, on the node's executor, never inside this call (an
  // empty lease, or one whose node is gone, runs it at once with FailedPrecondition).
  void RenewAsync(std::chrono::milliseconds duration, absl::AnyInvocable<void(absl::Status)> done);

  // Gives the lease back: the voters free it and wake waiters. OK, or FailedPrecondition if
  // it was released or lost already (or is empty). Does not wait for the voters.
  absl::Status Release();

 private:
  friend class Election;
  friend class runtime::Engine;
  explicit Lease(std::shared_ptr<runtime::LeaseState> state) : state_(std::move(state)) {}

  std::shared_ptr<runtime::LeaseState> state_;
};

}  // namespace lockmesh
