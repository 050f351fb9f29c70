// File: lease/events.h
//
// What the lease core hands back to its driver after each input: messages to
// send and lease events for API callers. The driver (runtime or simulator)
// owns both clocks and the network; the core only fills an Effects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lib/core/messages.h"

namespace lockmesh::core {

struct LeaseEvent {
  enum class Kind : uint8_t {
    kGranted,      // the request now holds the lease until `deadline_us`
    kRenewed,      // the deadline moved to `deadline_us`
    kRenewFailed,  // a renewal did not reach a majority; the old deadline stands
    kReleased,     // released by the holder
    kExpired,      // the deadline passed while holding
    kFailed,       // the request ended without a lease; `status` says why
  };
  Kind kind = Kind::kFailed;
  uint64_t request = 0;
  std::string resource;
  Ballot token = 0;         // the fencing token (granted, renewed, released, expired)
  int64_t deadline_us = 0;  // on the node's monotonic clock
  absl::Status status;      // kFailed only
};
absl::string_view LeaseEventKindName(LeaseEvent::Kind kind);

struct Effects {
  std::vector<Envelope> messages;
  std::vector<LeaseEvent> events;
  void Clear() {
    messages.clear();
    events.clear();
  }
};

// The seam between the voter/proposer halves and their node: where replies go.
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual void Send(NodeId to, MessageBody body) = 0;
  virtual void Emit(LeaseEvent event) = 0;
};

}  // namespace lockmesh::core
