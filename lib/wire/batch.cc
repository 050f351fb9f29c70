#include "lib/wire/batch.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <kj/io.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/core/check.h"
#include "lib/core/limits.h"
#include "lib/core/messages.h"
#include "lib/wire/capnp_status.h"
#include "lockmesh.capnp.h"

namespace lockmesh::wire {
namespace {

constexpr std::size_t kWordBytes = sizeof(capnp::word);
static_assert(kWordBytes == 8);

// Words of the largest batch either side handles: the builder's segment (the batch without
// its one-word segment table) and the reader's copy of the whole input.
constexpr std::size_t kBatchWordsMax = core::kDatagramBytesMax / kWordBytes;

// Thread-local so DecodeBatch stays thread-safe with no per-call scratch allocation. The
// builder's segment must start zeroed; MallocMessageBuilder re-zeroes what it used on
// destruction, so the array can be handed to one builder after another.
thread_local std::array<capnp::word, kBatchWordsMax> tls_segment{};
thread_local std::array<capnp::word, kBatchWordsMax> tls_input{};

std::string_view AsChars(capnp::Data::Reader data) {
  return std::string_view(reinterpret_cast<const char*>(data.begin()), data.size());
}

absl::StatusOr<std::vector<std::string>> DecodeBatchUnchecked(std::string_view bytes) {
  // A flat message is whole words; FlatArrayMessageReader needs them aligned, so copy.
  if (bytes.size() % kWordBytes != 0) {
    return absl::DataLossError(
        absl::StrCat("batch of ", bytes.size(), " bytes is not whole 8-byte words"));
  }
  const std::size_t words = bytes.size() / kWordBytes;
  std::memcpy(tls_input.data(), bytes.data(), bytes.size());
  const kj::ArrayPtr<const capnp::word> flat(tls_input.data(), words);

  // Every word of a well-formed batch is read at most once, so its own size bounds the
  // traversal: elements that point at the same bytes (read amplification) pass it.
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words;
  options.nestingLimit = core::kWireNestingMax;
  capnp::FlatArrayMessageReader reader(flat, options);
  if (reader.getEnd() != flat.end()) {
    return absl::DataLossError(absl::StrCat("trailing data: batch ends after ",
                                            reader.getEnd() - flat.begin(), " of ", words,
                                            " words"));
  }
  auto root = reader.getRoot<schema::Batch>();
  if (root.getVersion() != core::kProtocolVersion) {
    return absl::UnimplementedError(absl::StrCat("unsupported protocol version ", root.getVersion(),
                                                 " (this build speaks ", core::kProtocolVersion,
                                                 ")"));
  }
  // Read once: the traversal limit counts every read of the list.
  const capnp::List<capnp::Data>::Reader messages = root.getMessages();
  if (messages.size() == 0) return absl::InvalidArgumentError("batch holds no messages");
  if (messages.size() > core::kBatchMessagesMax) {
    return absl::InvalidArgumentError(absl::StrCat("batch holds ", messages.size(),
                                                   " messages, more than the limit of ",
                                                   core::kBatchMessagesMax));
  }
  std::vector<std::string> out;
  out.reserve(messages.size());
  for (unsigned i = 0; i < messages.size(); ++i) {
    const std::string_view message = AsChars(messages[i]);
    if (message.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("message ", i, " of ", messages.size(), " in the batch is empty"));
    }
    out.emplace_back(message);
  }
  return out;
}

}  // namespace

BatchBuilder::BatchBuilder(std::size_t bytes_max) : bytes_max_(bytes_max) {
  LM_CHECK(bytes_max_ <= core::kDatagramBytesMax);
}

bool BatchBuilder::Fits(std::size_t message_bytes) const {
  if (message_bytes == 0 || messages_.size() >= core::kBatchMessagesMax) return false;
  // Compared before adding so a huge message_bytes cannot wrap the sum around.
  if (message_bytes > bytes_max_) return false;
  return bytes() + kBatchPerMessageBytes + PaddedBytes(message_bytes) <= bytes_max_;
}

void BatchBuilder::Add(std::string message) {
  LM_CHECK(Fits(message.size()));
  padded_bytes_ += PaddedBytes(message.size());
  messages_.push_back(std::move(message));
}

std::string BatchBuilder::Finish() {
  LM_CHECK(!messages_.empty());
  const std::size_t bytes = this->bytes();
  // bytes <= bytes_max_ <= kDatagramBytesMax, so the batch without its segment table fits
  // the scratch segment: the builder never allocates a second segment.
  capnp::MallocMessageBuilder message(kj::arrayPtr(tls_segment.data(), tls_segment.size()));
  auto root = message.initRoot<schema::Batch>();
  root.setVersion(core::kProtocolVersion);
  auto list = root.initMessages(static_cast<unsigned>(messages_.size()));
  for (unsigned i = 0; i < messages_.size(); ++i) {
    list.set(i, kj::arrayPtr(reinterpret_cast<const kj::byte*>(messages_[i].data()),
                             messages_[i].size()));
  }
  // The size formula is the contract of bytes(); a mismatch is a bug here.
  LM_CHECK(message.getSegmentsForOutput().size() == 1);
  LM_CHECK(capnp::computeSerializedSizeInWords(message) * kWordBytes == bytes);

  std::string out(bytes, '\0');
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), bytes));
  capnp::writeMessage(stream, message);
  LM_CHECK(stream.getArray().size() == bytes);

  messages_.clear();
  padded_bytes_ = 0;
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeBatch(std::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty datagram");
  if (bytes.size() > core::kDatagramBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "datagram is ", bytes.size(), " bytes, more than the limit of ", core::kDatagramBytesMax));
  }
  return CatchCapnp(absl::StatusCode::kDataLoss, "malformed Cap'n Proto batch",
                    [&] { return DecodeBatchUnchecked(bytes); });
}

}  // namespace lockmesh::wire
