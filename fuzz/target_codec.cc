// Fuzz target: every message kind's codec (lib/wire/codec.h).
//
// wire::Decode reads any of the twelve message kinds from the input (the kind is the
// envelope's union tag, so one decoder covers them all; the seed corpus holds each kind).
// When it decodes, the value goes back through the codec:
//   - Encode succeeds, unless the value is merely too large for one datagram (Decode accepts
//     up to core::kDatagramBytesMax bytes, Encode makes at most core::kEnvelopeBytesMax);
//     any other refusal means Decode let through what no sender may send;
//   - decode(encode(x)) == x (core::Envelope compares every field);
//   - encode(decode(encode(x))) == encode(x): the encoding is stable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "fuzz/support.h"
#include "lib/core/messages.h"
#include "lib/wire/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace lockmesh;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<core::Envelope> decoded = wire::Decode(input);
  if (!decoded.ok()) return 0;
  absl::StatusOr<std::string> encoded = wire::Encode(*decoded);
  if (!encoded.ok()) {
    // The two size refusals of Encode (lib/wire/codec.cc); every other check is one Decode
    // makes too.
    const bool too_large = absl::StrContains(encoded.status().message(), "envelope limit") ||
                           absl::StrContains(encoded.status().message(), "too large to encode");
    fuzz::Check(too_large, "Decode accepted a message that Encode refuses for its content");
    return 0;
  }
  absl::StatusOr<core::Envelope> again = wire::Decode(*encoded);
  fuzz::Check(again.ok(), "Decode refuses what Encode made of a decoded message");
  fuzz::Check(*again == *decoded, "decode(encode(x)) != x");
  absl::StatusOr<std::string> reencoded = wire::Encode(*again);
  fuzz::Check(reencoded.ok() && *reencoded == *encoded, "encode(decode(encode(x))) != encode(x)");
  return 0;
}
