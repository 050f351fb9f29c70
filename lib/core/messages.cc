#include "lib/core/messages.h"

namespace lockmesh::core {

std::string_view RefuseReasonName(RefuseReason reason) {
  switch (reason) {
    case RefuseReason::kNone: return "none";
    case RefuseReason::kQuarantine: return "quarantine";
    case RefuseReason::kStaleBallot: return "stale-ballot";
    case RefuseReason::kHeld: return "held";
    case RefuseReason::kNoLease: return "no-lease";
    case RefuseReason::kTableFull: return "table-full";
    case RefuseReason::kBadRequest: return "bad-request";
    case RefuseReason::kNotVoter: return "not-voter";
  }
  return "unknown";
}

std::string_view MessageKindName(std::size_t index) {
  static constexpr std::string_view kNames[] = {"acquire", "acquire-reply", "renew",
                                                "renew-reply", "release", "release-notice"};
  static_assert(std::size(kNames) == kMessageKindCount);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

const std::string& ResourceOf(const MessageBody& body) {
  return std::visit([](const auto& m) -> const std::string& { return m.resource; }, body);
}

}  // namespace lockmesh::core
