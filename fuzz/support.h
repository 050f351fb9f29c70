// File: fuzz/support.h
//
// What the fuzz targets and the seed generator share: the fixed test key and cluster name
// that the datagram target opens with (and the seed generator seals with), and the check that
// turns a broken property into a crash libFuzzer reports.
//
//   absl::StatusOr<std::string> plain =
//       crypto::Open(fuzz::TestKeyring(), fuzz::kClusterName, datagram);
//   fuzz::Check(*wire::Decode(*wire::Encode(env)) == env, "decode(encode(x)) != x");
//
// Thread safety: TestKeyring() is initialized once (thread-safe static); Check is stateless.
#pragma once

#include <string_view>

#include "lib/crypto/keyring.h"

namespace lockmesh::fuzz {

// The cluster name every fuzz datagram is sealed under (the AEAD's additional data).
inline constexpr std::string_view kClusterName = "fuzz-cluster";

// A keyring of one fixed, public test key (bytes 0x00..0x1f). A fuzz input opens only if it
// was sealed with it, which is why the seeds are sealed with it too.
const crypto::Keyring& TestKeyring();

// Prints `what` and aborts when `ok` is false: the fuzzer (or the replay test) reports it as a
// crash with the input that broke the property. Not assert(): it stays on with NDEBUG.
void Check(bool ok, std::string_view what);

}  // namespace lockmesh::fuzz
