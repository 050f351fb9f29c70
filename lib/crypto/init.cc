#include "lib/crypto/init.h"

#include <sodium.h>

#include <mutex>

namespace lockmesh::crypto {

absl::Status InitCrypto() {
  static std::once_flag once;
  static bool ok = false;
  // sodium_init() returns 0 on the first success and 1 when already initialized (by the
  // embedder, say); only -1 is a failure.
  std::call_once(once, [] { ok = sodium_init() >= 0; });
  if (!ok) return absl::InternalError("sodium_init() failed: no secure randomness available");
  return absl::OkStatus();
}

}  // namespace lockmesh::crypto
