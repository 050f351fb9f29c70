// Fuzz target: node options as an operator writes them, and their validation.
//
// The input is text, one "flag=value" a line, read the way lockmesh-node reads its flags:
//   name=n1
//   bind=127.0.0.1:7101
//   voters=n1@127.0.0.1:7101,n2@127.0.0.1:7102,n3
//   seeds=127.0.0.1:7102
//   cluster=demo
//   key=000102...1f                 (64 hex digits or base64)
//   timing=lan|wan|local
//   bootstrap=1
//   lease_max_ms=30000  clock_error_ppm=1000  quarantine_ms=0  breaker_failures=5
//   breaker_cooldown_ms=1000  leave_timeout_ms=2000   (one a line; int64, as absl flags read)
//   advertise=10.0.0.1:7101
//   tag=key=value
// Unknown lines and unparsable numbers are skipped. The lists go through tools/node_flags.h's
// ParseList and ParseVoters, every address through runtime::ParseEndpoint, and the whole set
// through runtime::MakeSettings, the validation Node::Start runs. A set naming a host that is
// not numeric stops before MakeSettings: resolving it would ask the system's resolver (slow,
// and not the same answer every run).
//
// Properties beyond "no crash, no sanitizer report": ParseList's items are trimmed and not
// empty; a voter's name holds no '@'; settings that MakeSettings accepts have a valid lease
// configuration with the listed voters, and this node is a voter exactly when it is listed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "fuzz/support.h"
#include "lib/runtime/address.h"
#include "lib/runtime/engine.h"
#include "tools/node_flags.h"

namespace lockmesh::fuzz {
namespace {

void CheckList(const std::vector<std::string>& items) {
  for (const std::string& item : items) {
    Check(!item.empty() && item == absl::StripAsciiWhitespace(item),
          "ParseList returned a blank or untrimmed item");
  }
}

bool Numeric(absl::string_view address) { return runtime::ParseEndpoint(address).ok(); }

// Applies one "flag=value" line to `o`. False if a value names a host that is not numeric.
bool Apply(absl::string_view flag, absl::string_view value, NodeOptions& o) {
  int64_t n = 0;
  const bool number = absl::SimpleAtoi(value, &n);
  if (flag == "name") {
    o.name = std::string(value);
  } else if (flag == "bind") {
    o.bind_address = std::string(value);
    return Numeric(value);
  } else if (flag == "advertise") {
    o.advertise_address = std::string(value);  // MakeSettings reads it with ParseEndpoint only
  } else if (flag == "seeds") {
    o.seeds = tools::ParseList(value);
    CheckList(o.seeds);
    for (const std::string& seed : o.seeds) {
      if (!Numeric(seed)) return false;
    }
  } else if (flag == "voters") {
    CheckList(tools::ParseList(value));
    o.voters = tools::ParseVoters(value);
    for (const Peer& voter : o.voters) {
      Check(voter.name.find('@') == std::string::npos, "a voter's name holds an '@'");
      if (!voter.address.empty() && !Numeric(voter.address)) return false;
    }
  } else if (flag == "cluster") {
    o.cluster_name = std::string(value);
  } else if (flag == "key") {
    o.keys.emplace_back(value);
  } else if (flag == "timing") {
    o.timing = value == "wan" ? Timing::kWan : value == "local" ? Timing::kLocal : Timing::kLan;
  } else if (flag == "bootstrap") {
    o.bootstrap = value == "1" || value == "true";
  } else if (flag == "tag") {
    std::pair<std::string, std::string> kv = absl::StrSplit(value, absl::MaxSplits('=', 1));
    o.tags[kv.first] = kv.second;
  } else if (number && flag == "lease_max_ms") {
    o.lease_duration_max = std::chrono::milliseconds(n);
  } else if (number && flag == "clock_error_ppm") {
    o.clock_error_ppm = n;
  } else if (number && flag == "quarantine_ms") {
    o.quarantine = std::chrono::milliseconds(n);
  } else if (number && flag == "breaker_failures") {
    o.breaker_failures = static_cast<int>(n);
  } else if (number && flag == "breaker_cooldown_ms") {
    o.breaker_cooldown = std::chrono::milliseconds(n);
  } else if (number && flag == "leave_timeout_ms") {
    o.leave_timeout = std::chrono::milliseconds(n);
  }
  return true;
}

}  // namespace
}  // namespace lockmesh::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace lockmesh;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  NodeOptions options;
  bool numeric_only = true;
  for (absl::string_view line : absl::StrSplit(input, '\n')) {
    const std::size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    numeric_only &= fuzz::Apply(line.substr(0, eq), line.substr(eq + 1), options);
  }
  if (!numeric_only) return 0;
  const std::vector<Peer> voters = options.voters;
  const std::string name = options.name;
  absl::StatusOr<runtime::Settings> settings = runtime::MakeSettings(std::move(options));
  if (!settings.ok()) return 0;
  fuzz::Check(settings->lease.Validate().ok(), "MakeSettings accepted an invalid lease config");
  fuzz::Check(settings->lease.voters.size() == voters.size(),
              "MakeSettings changed the number of voters");
  bool listed = false;
  for (const Peer& voter : voters) listed |= voter.name == name;
  fuzz::Check(settings->self.voter == listed, "this node is a voter iff it is listed");
  return 0;
}
