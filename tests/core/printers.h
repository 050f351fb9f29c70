// File: printers.h
//
// GoogleTest printers for the core's enums, so a failed expectation reads
// "held" instead of "1-byte object <03>". Found by argument-dependent lookup.
#pragma once

#include <cstddef>
#include <iterator>
#include <ostream>

#include "lib/core/lease/events.h"
#include "lib/core/messages.h"

namespace lockmesh::core {

inline void PrintTo(RefuseReason reason, std::ostream* os) { *os << RefuseReasonName(reason); }

inline void PrintTo(LeaseEvent::Kind kind, std::ostream* os) {
  static constexpr const char* kNames[] = {"granted",  "renewed", "renew-failed",
                                           "released", "expired", "failed"};
  const auto index = static_cast<std::size_t>(kind);
  if (index < std::size(kNames)) {
    *os << kNames[index];
  } else {
    *os << "kind " << index;
  }
}

}  // namespace lockmesh::core
