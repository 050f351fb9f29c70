// File: runtime/lease_state.h
//
// What a lockmesh::Lease handle and the engine share about one granted lease. The engine
// writes (renewals move the deadline, loss sets the flags); handles on any thread read.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace lockmesh::runtime {

class Engine;

class LeaseState {
 public:
  LeaseState(std::string resource, uint64_t token, uint64_t request, int64_t deadline_us,
             std::weak_ptr<Engine> engine)
      : resource(std::move(resource)),
        token(token),
        request(request),
        engine(std::move(engine)),
        deadline_us(deadline_us) {}

  const std::string resource;
  const uint64_t token;
  const uint64_t request;  // the engine's handle for it
  const std::weak_ptr<Engine> engine;

  // On the steady clock, in µs since its epoch.
  std::atomic<int64_t> deadline_us;
  // Reported lost (before the deadline) or expired.
  std::atomic<bool> lost{false};
  // No longer held: released, lost or expired. Set once.
  std::atomic<bool> ended{false};

  // Lease::valid(): not ended, and the deadline not passed.
  bool Valid() const {
    const auto deadline =
        std::chrono::steady_clock::time_point(std::chrono::microseconds(deadline_us.load()));
    return !ended.load() && std::chrono::steady_clock::now() < deadline;
  }
};

}  // namespace lockmesh::runtime
