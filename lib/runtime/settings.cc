// Validation of NodeOptions and their translation into the cores' configurations.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/crypto/key.h"
#include "lib/runtime/address.h"
#include "lib/runtime/engine.h"
#include "lib/runtime/limits.h"

namespace lockmesh::runtime {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("lockmesh options: ", what));
}

// Takes the preset's timing; identity and voters stay as set.
void ApplyTiming(Timing timing, core::LeaseConfig& lease, core::GossipConfig& gossip) {
  core::LeaseConfig preset;
  switch (timing) {
    case Timing::kLan:
      preset = core::LeaseConfig::Lan();
      gossip = core::GossipConfig::Lan();
      break;
    case Timing::kWan:
      preset = core::LeaseConfig::Wan();
      gossip = core::GossipConfig::Wan();
      break;
    case Timing::kLocal:
      preset = core::LeaseConfig::Local();
      gossip = core::GossipConfig::Local();
      break;
  }
  preset.self = lease.self;
  preset.voters = std::move(lease.voters);
  lease = std::move(preset);
}

}  // namespace

absl::StatusOr<Settings> MakeSettings(NodeOptions options) {
  Settings s;
  // Identity.
  s.self.name = options.name;
  if (options.name.empty() || options.name.size() > core::kMemberNameBytesMax) {
    return Invalid(absl::StrCat("name must be 1..", core::kMemberNameBytesMax, " bytes"));
  }
  if (options.cluster_name.empty() || options.cluster_name.size() > kClusterNameBytesMax) {
    return Invalid(absl::StrCat("cluster_name must be 1..", kClusterNameBytesMax, " bytes"));
  }

  // Keys.
  if (options.keys.empty()) return Invalid("keys: at least one cluster key is required");
  std::vector<crypto::Key> keys;
  for (std::size_t i = 0; i < options.keys.size(); ++i) {
    absl::StatusOr<crypto::Key> key = crypto::ParseKey(options.keys[i]);
    if (!key.ok()) return Invalid(absl::StrCat("keys[", i, "]: ", key.status().message()));
    keys.push_back(*key);
  }
  absl::StatusOr<std::unique_ptr<crypto::Keyring>> keyring = crypto::Keyring::Create(keys);
  if (!keyring.ok()) return Invalid(absl::StrCat("keys: ", keyring.status().message()));
  s.keyring = std::shared_ptr<crypto::Keyring>(std::move(*keyring));

  // Addresses.
  absl::StatusOr<udp::endpoint> bind = ResolveEndpoint(options.bind_address);
  if (!bind.ok()) return Invalid(absl::StrCat("bind_address: ", bind.status().message()));
  s.bind = *bind;
  if (!options.advertise_address.empty()) {
    absl::StatusOr<udp::endpoint> advertise = ParseEndpoint(options.advertise_address);
    if (!advertise.ok()) {
      return Invalid(
          absl::StrCat("advertise_address (numeric ip:port): ", advertise.status().message()));
    }
    if (advertise->address().is_unspecified() || advertise->port() == 0) {
      return Invalid("advertise_address must name a reachable address and a port");
    }
    s.self.address = FormatEndpoint(*advertise);
  } else if (s.bind.address().is_unspecified()) {
    return Invalid("advertise_address is required when binding to a wildcard address");
  }
  for (const std::string& seed : options.seeds) {
    absl::StatusOr<udp::endpoint> ep = ResolveEndpoint(seed);
    if (!ep.ok()) return Invalid(absl::StrCat("seeds: ", ep.status().message()));
    s.seeds.push_back(FormatEndpoint(*ep));
  }
  if (s.seeds.size() > core::kJoinSeedsMax) {
    return Invalid(absl::StrCat("seeds: at most ", core::kJoinSeedsMax));
  }

  // Voters.
  if (options.voters.empty() || options.voters.size() > core::kVotersMax) {
    return Invalid(absl::StrCat("voters: 1..", core::kVotersMax, " voters are required"));
  }
  absl::btree_set<std::string> names;
  for (const Peer& voter : options.voters) {
    if (voter.name.empty() || voter.name.size() > core::kMemberNameBytesMax) {
      return Invalid("voters: every voter needs a name of 1..64 bytes");
    }
    if (!names.insert(voter.name).second) {
      return Invalid(absl::StrCat("voters: '", voter.name, "' is listed twice"));
    }
    const core::NodeId id = core::NodeIdFromName(voter.name);
    s.lease.voters.push_back(id);
    if (voter.address.empty()) continue;
    absl::StatusOr<udp::endpoint> ep = ResolveEndpoint(voter.address);
    if (!ep.ok()) {
      return Invalid(absl::StrCat("voters: '", voter.name, "': ", ep.status().message()));
    }
    s.voter_routes[id] = *ep;
    if (voter.name == options.name && !s.self.address.empty() &&
        FormatEndpoint(*ep) != s.self.address) {
      return Invalid(absl::StrCat("voters: this node '", voter.name, "' is listed at ",
                                  voter.address, " but advertises ", s.self.address));
    }
    if (voter.name == options.name && s.self.address.empty() && s.bind.port() != 0 &&
        *ep != s.bind) {
      return Invalid(absl::StrCat("voters: this node '", voter.name, "' is listed at ",
                                  voter.address, " but binds ", options.bind_address));
    }
    if (voter.name != options.name && s.self.address.empty() && *ep == s.bind) {
      return Invalid(absl::StrCat("voters: '", voter.name,
                                  "' is listed at this node's own address ", options.bind_address));
    }
  }
  s.lease.self = core::NodeIdFromName(options.name);
  s.self.voter = s.lease.IsVoter(s.lease.self);
  if (s.seeds.empty()) {
    for (const auto& [id, ep] : s.voter_routes) {
      if (id != s.lease.self && s.seeds.size() < core::kJoinSeedsMax) {
        s.seeds.push_back(FormatEndpoint(ep));
      }
    }
  }

  // Timing: the cores' presets of the same name.
  ApplyTiming(options.timing, s.lease, s.gossip);
  if (options.clock_error_ppm < 0 || options.clock_error_ppm > core::kRhoPpmMax) {
    return Invalid(absl::StrCat("clock_error_ppm must be in [0, ", core::kRhoPpmMax, "]"));
  }
  s.lease.rho_ppm = options.clock_error_ppm;
  // Converted to microseconds below: refuse what the product cannot hold (signed overflow is
  // undefined; a wrapped value could even pass Validate). Validate judges the rest.
  constexpr int64_t kMsMax = std::numeric_limits<int64_t>::max() / 1000;
  if (options.lease_duration_max.count() < 0 || options.lease_duration_max.count() > kMsMax) {
    return Invalid(absl::StrCat("lease_duration_max must be in [0, ", kMsMax, "] ms"));
  }
  if (options.quarantine.count() < 0 || options.quarantine.count() > kMsMax) {
    return Invalid(absl::StrCat("quarantine must be in [0, ", kMsMax, "] ms"));
  }
  s.lease.lease_duration_us_max = options.lease_duration_max.count() * 1000;
  s.lease.quarantine_us = options.quarantine.count() == 0 ? s.lease.QuarantineUsMin()
                                                          : options.quarantine.count() * 1000;
  if (absl::Status st = s.lease.Validate(); !st.ok()) {
    return Invalid(absl::StrCat("unsafe or invalid lease timing: ", st.message()));
  }
  if (absl::Status st = s.gossip.Validate(); !st.ok()) return Invalid(st.message());
  if (options.breaker_failures < 1) return Invalid("breaker_failures must be at least 1");
  if (options.breaker_cooldown.count() <= 0) return Invalid("breaker_cooldown must be positive");
  if (options.leave_timeout.count() < 0) return Invalid("leave_timeout must not be negative");

  // Tags.
  for (const auto& [k, v] : options.tags) s.self.tags[k] = v;
  if (absl::Status st = core::ValidateTags(s.self.tags); !st.ok()) {
    return Invalid(absl::StrCat("tags: ", st.message()));
  }
  s.options = std::move(options);
  return s;
}

}  // namespace lockmesh::runtime
