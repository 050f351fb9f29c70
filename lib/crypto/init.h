// File: init.h
//
// libsodium must be initialized once per process before it is used: sodium_init() picks the
// fastest implementations for this CPU and opens the system's randomness source. InitCrypto()
// does that exactly once, however many threads call it, and remembers the outcome. Every
// other call of lib/crypto runs it lazily, so calling it yourself is optional; a runtime calls
// it at startup to fail early and clearly instead of on its first datagram.
//
// Example:
//
//   if (absl::Status s = lockmesh::crypto::InitCrypto(); !s.ok()) return s;
//
// Thread safety: thread-safe (std::call_once).
#pragma once

#include "absl/status/status.h"

namespace lockmesh::crypto {

// OK once libsodium is initialized. kInternal if sodium_init() failed (no usable source of
// secure randomness); the failure is permanent for the process, so later calls return it
// again without retrying.
[[nodiscard]] absl::Status InitCrypto();

}  // namespace lockmesh::crypto
