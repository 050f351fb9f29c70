#include "lib/core/membership/member.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/core/config.h"
#include "lib/core/limits.h"

namespace lockmesh::core {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("member: ", what));
}

absl::Status CheckBytes(absl::string_view what, std::size_t size, std::size_t max) {
  if (size > max) {
    return Invalid(absl::StrCat(what, " is ", size, " bytes, more than the limit of ", max));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view MemberStateName(MemberState state) {
  switch (state) {
    case MemberState::kAlive:
      return "alive";
    case MemberState::kSuspect:
      return "suspect";
    case MemberState::kDead:
      return "dead";
    case MemberState::kLeft:
      return "left";
  }
  return "unknown";
}

absl::Status ValidateTags(const Tags& tags) {
  if (tags.size() > kMemberTagsMax) {
    return Invalid(absl::StrCat(tags.size(), " tags, more than the limit of ", kMemberTagsMax));
  }
  std::size_t total = 0;
  for (const auto& [key, value] : tags) {
    if (key.empty()) return Invalid("a tag key is empty");
    if (absl::Status s = CheckBytes("tag key", key.size(), kMemberTagKeyBytesMax); !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckBytes(absl::StrCat("value of tag '", key, "'"), value.size(),
                                    kMemberTagValueBytesMax);
        !s.ok()) {
      return s;
    }
    total += key.size() + value.size();
  }
  return CheckBytes("all tag keys and values", total, kMemberTagsBytesMax);
}

absl::Status ValidateMemberInfo(const MemberInfo& info) {
  if (info.name.empty()) return Invalid("name is empty");
  if (info.address.empty()) return Invalid(absl::StrCat("address of '", info.name, "' is empty"));
  if (absl::Status s = CheckBytes("name", info.name.size(), kMemberNameBytesMax); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckBytes("address", info.address.size(), kMemberAddressBytesMax);
      !s.ok()) {
    return s;
  }
  return ValidateTags(info.tags);
}

absl::Status CheckMemberUpdateBounds(const MemberUpdate& update) {
  if (static_cast<int>(update.state) >= kMemberStateCount) {
    return Invalid(absl::StrCat("unknown member state ", static_cast<int>(update.state)));
  }
  if (update.incarnation > kIncarnationMax) {
    return Invalid(absl::StrCat("incarnation ", update.incarnation, " is above the limit of ",
                                kIncarnationMax));
  }
  if (absl::Status s = CheckBytes("name", update.info.name.size(), kMemberNameBytesMax); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckBytes("address", update.info.address.size(), kMemberAddressBytesMax);
      !s.ok()) {
    return s;
  }
  return ValidateTags(update.info.tags);
}

absl::Status ValidateMemberUpdate(const MemberUpdate& update) {
  if (absl::Status s = CheckMemberUpdateBounds(update); !s.ok()) return s;
  if (update.node == 0) return Invalid("update names node 0");
  const bool has_info = !update.info.name.empty();
  if (update.state == MemberState::kAlive) {
    if (absl::Status s = ValidateMemberInfo(update.info); !s.ok()) return s;
  }
  if (has_info && NodeIdFromName(update.info.name) != update.node) {
    return Invalid(
        absl::StrFormat("name '%s' does not hash to node %x", update.info.name, update.node));
  }
  if ((update.state == MemberState::kSuspect || update.state == MemberState::kDead) &&
      update.from == 0) {
    return Invalid("a suspicion or death names no accuser");
  }
  if (update.state == MemberState::kLeft && update.from != update.node) {
    return Invalid("a leave must come from the member itself");
  }
  return absl::OkStatus();
}

std::string DescribeUpdate(const MemberUpdate& update) {
  const std::string who =
      update.info.name.empty() ? absl::StrFormat("%x", update.node) : update.info.name;
  return absl::StrCat(MemberStateName(update.state), " ", who, "@", update.incarnation);
}

}  // namespace lockmesh::core
