// Fuzz target: the receive path of a datagram before the protocol sees it.
//
// Every input goes two ways:
//   1. as a sealed datagram: crypto::Open under the fixed test key (fuzz/support.h), and when
//      it opens, wire::DecodeBatch of the plaintext and wire::Decode of each envelope;
//   2. as a batch plaintext: wire::DecodeBatch of the raw bytes and wire::Decode of each
//      envelope, so the fuzzer reaches the batch decoder without forging a MAC.
// Properties beyond "no crash, no sanitizer report": an opened plaintext is a strict part of
// the datagram (the frame overhead less), and a batch that decodes is rebuilt by BatchBuilder
// into a batch that decodes to the same envelopes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fuzz/support.h"
#include "lib/crypto/sealed_frame.h"
#include "lib/wire/batch.h"
#include "lib/wire/codec.h"

namespace lockmesh::fuzz {
namespace {

void DecodeBatchAndEnvelopes(std::string_view plaintext) {
  absl::StatusOr<std::vector<std::string>> envelopes = wire::DecodeBatch(plaintext);
  if (!envelopes.ok()) return;
  Check(!envelopes->empty() && envelopes->size() <= core::kBatchMessagesMax,
        "DecodeBatch returned an empty or overfull batch");
  wire::BatchBuilder rebuilt(core::kDatagramBytesMax);
  for (const std::string& bytes : *envelopes) {
    (void)wire::Decode(bytes);                                 // any outcome but a crash is fine
    if (bytes.empty() || !rebuilt.Fits(bytes.size())) return;  // cannot be rebuilt as sent
    rebuilt.Add(bytes);
  }
  absl::StatusOr<std::vector<std::string>> again = wire::DecodeBatch(rebuilt.Finish());
  Check(again.ok() && *again == *envelopes, "a decoded batch, rebuilt, decodes differently");
}

}  // namespace
}  // namespace lockmesh::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace lockmesh;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> plaintext =
      crypto::Open(fuzz::TestKeyring(), fuzz::kClusterName, input);
  if (plaintext.ok()) {
    fuzz::Check(plaintext->size() + crypto::kFrameOverheadBytes == input.size(),
                "an opened plaintext is not the datagram less the frame overhead");
    fuzz::DecodeBatchAndEnvelopes(*plaintext);
  }
  fuzz::DecodeBatchAndEnvelopes(input);
  return 0;
}
