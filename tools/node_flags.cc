#include "tools/node_flags.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

ABSL_FLAG(std::string, name, "", "this node's name, unique in the cluster");
ABSL_FLAG(std::string, bind, "127.0.0.1:7946", "UDP address to bind (ip:port)");
ABSL_FLAG(std::string, advertise, "", "address others reach this node at (default: bind)");
ABSL_FLAG(std::string, seeds, "", "comma-separated addresses to join through (default: voters)");
ABSL_FLAG(std::string, voters, "", "comma-separated voter set: name@ip:port or name");
ABSL_FLAG(std::string, cluster, "", "cluster name");
ABSL_FLAG(std::string, key_file, "",
          "file holding the cluster key (64 hex digits or base64 of 32 bytes; `lockmesh keygen` "
          "writes one); the key is never given on the command line, where `ps` would show it");
ABSL_FLAG(std::string, timing, "lan",
          "failure detection and retransmission timing: lan, wan (long, lossy paths) or local "
          "(loopback and test clusters)");
ABSL_FLAG(bool, bootstrap, false,
          "first start of a brand-new cluster only: voters skip the restart quarantine (never "
          "on a restart, or a lease granted before it could be granted again)");
ABSL_FLAG(int64_t, lease_max_ms, 30000,
          "longest lease a request may ask for (D_max, ms); the same on every voter");
ABSL_FLAG(std::string, log, "warning", "least log level printed: debug, info, warning, error, off");

namespace lockmesh::tools {

std::vector<std::string> ParseList(absl::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

std::vector<Peer> ParseVoters(absl::string_view text) {
  std::vector<Peer> out;
  for (const std::string& v : ParseList(text)) {
    const std::size_t at = v.find('@');
    out.push_back(at == std::string::npos ? Peer{v, ""} : Peer{v.substr(0, at), v.substr(at + 1)});
  }
  return out;
}

sigset_t BlockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  return stop;
}

std::string LogTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<NodeOptions> NodeOptionsFromFlags() {
  NodeOptions o;
  o.name = absl::GetFlag(FLAGS_name);
  o.bind_address = absl::GetFlag(FLAGS_bind);
  o.advertise_address = absl::GetFlag(FLAGS_advertise);
  o.seeds = ParseList(absl::GetFlag(FLAGS_seeds));
  o.voters = ParseVoters(absl::GetFlag(FLAGS_voters));
  o.cluster_name = absl::GetFlag(FLAGS_cluster);
  if (const std::string path = absl::GetFlag(FLAGS_key_file); !path.empty()) {
    std::ifstream in(path);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read --key_file ", path));
    std::stringstream text;
    text << in.rdbuf();
    o.keys = {std::string(absl::StripAsciiWhitespace(text.str()))};
  }
  const std::string timing = absl::GetFlag(FLAGS_timing);
  if (timing == "lan") {
    o.timing = Timing::kLan;
  } else if (timing == "wan") {
    o.timing = Timing::kWan;
  } else if (timing == "local") {
    o.timing = Timing::kLocal;
  } else {
    return absl::InvalidArgumentError("--timing must be lan, wan or local");
  }
  o.bootstrap = absl::GetFlag(FLAGS_bootstrap);
  o.lease_duration_max = std::chrono::milliseconds(absl::GetFlag(FLAGS_lease_max_ms));
  const std::string level = absl::GetFlag(FLAGS_log);
  if (level != "off") {
    if (level == "debug") {
      o.log_level = LogLevel::kDebug;
    } else if (level == "info") {
      o.log_level = LogLevel::kInfo;
    } else if (level == "warning") {
      o.log_level = LogLevel::kWarning;
    } else if (level == "error") {
      o.log_level = LogLevel::kError;
    } else {
      return absl::InvalidArgumentError("--log must be debug, info, warning, error or off");
    }
    o.log = [](const LogRecord& r) {
      // One write per record, so records of several threads never interleave.
      std::string line = LogTimestamp(absl::Now());
      for (std::string_view part :
           {std::string_view(" "), r.node, std::string_view(" "), LogLevelName(r.level),
            std::string_view(" "), r.event, std::string_view(": "), std::string_view(r.message)}) {
        line.append(part);
      }
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), stderr);
    };
  }
  return o;
}

}  // namespace lockmesh::tools
