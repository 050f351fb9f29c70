#include "fuzz/support.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "lib/crypto/key.h"

namespace lockmesh::fuzz {

const crypto::Keyring& TestKeyring() {
  static const crypto::Keyring* const keyring = [] {
    crypto::Key::Bytes bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i);
    absl::StatusOr<std::unique_ptr<crypto::Keyring>> made =
        crypto::Keyring::Create({crypto::Key(bytes)});
    Check(made.ok(), "the fixed test keyring cannot be made");
    return made->release();  // lives as long as the process; never freed
  }();
  return *keyring;
}

void Check(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace lockmesh::fuzz
