// PrometheusText: every field of Metrics under its name with its value, the exposition format
// exactly (HELP and TYPE once per family, final newline), the latency histogram cumulative in
// seconds, and promtool's own check where promtool is installed.
#include "tools/http/metrics_text.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tools/metrics_fill.h"

extern char** environ;

namespace lockmesh::tools {
namespace {

using ::testing::Contains;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  EXPECT_EQ(lines.back(), "") << "the exposition must end with a newline";
  lines.pop_back();
  return lines;
}

// The samples of one family's histogram bucket lines, in order: (le, cumulative count).
std::vector<std::pair<std::string, uint64_t>> Buckets(const std::string& text) {
  std::vector<std::pair<std::string, uint64_t>> out;
  const std::string prefix = "lockmesh_acquire_latency_seconds_bucket{le=\"";
  for (const std::string& line : Lines(text)) {
    if (!absl::StartsWith(line, prefix)) continue;
    std::vector<std::string> parts = absl::StrSplit(line.substr(prefix.size()), "\"} ");
    EXPECT_EQ(parts.size(), 2u) << line;
    uint64_t n = 0;
    EXPECT_TRUE(absl::SimpleAtoi(parts[1], &n)) << line;
    out.emplace_back(parts[0], n);
  }
  return out;
}

TEST(PrometheusTextTest, EveryFieldAppearsUnderItsNameWithItsValue) {
  const std::string text = PrometheusText(testing::FilledMetrics());
  // One line per field of Metrics (metrics_fill.cc gives each a value no other has).
  const std::vector<std::string> expected = {
      "lockmesh_acquire_latency_seconds_count 6",
      "lockmesh_acquire_latency_seconds_sum 101.505174",
      "lockmesh_acquire_latency_max_seconds 100",
      "lockmesh_acquires_started_total 1001",
      "lockmesh_acquires_total{outcome=\"succeeded\"} 1002",
      "lockmesh_acquires_total{outcome=\"failed\"} 1003",
      "lockmesh_acquires_total{outcome=\"timed_out\"} 1004",
      "lockmesh_acquires_total{outcome=\"cancelled\"} 1005",
      "lockmesh_acquire_attempts_total 1006",
      "lockmesh_acquire_attempts_failed_total 1007",
      "lockmesh_acquire_attempts_queued_total 1008",
      "lockmesh_grants_at_release_total 1009",
      "lockmesh_acquire_attempts_too_slow_total 1040",
      "lockmesh_probes_total 1041",
      "lockmesh_lease_ends_total{how=\"released\"} 1010",
      "lockmesh_lease_ends_total{how=\"expired\"} 1011",
      "lockmesh_renewals_total 1012",
      "lockmesh_renewals_failed_total 1013",
      "lockmesh_lease_ends_total{how=\"lost\"} 1014",
      "lockmesh_leases_held 1015",
      "lockmesh_breaker_open 1",
      "lockmesh_breaker_opens_total 1016",
      "lockmesh_breaker_rejections_total 1017",
      "lockmesh_breaker_deferrals_total 1018",
      "lockmesh_members{state=\"alive\"} 1019",
      "lockmesh_members{state=\"suspect\"} 1020",
      "lockmesh_members{state=\"dead\"} 1021",
      "lockmesh_members{state=\"left\"} 1022",
      "lockmesh_datagrams_sent_total 1023",
      "lockmesh_datagrams_received_total 1024",
      "lockmesh_sent_bytes_total 1025",
      "lockmesh_received_bytes_total 1026",
      "lockmesh_messages_sent_total 1027",
      "lockmesh_messages_received_total 1028",
      "lockmesh_send_errors_total 1029",
      "lockmesh_datagrams_dropped_total{reason=\"oversized\"} 1030",
      "lockmesh_datagrams_dropped_total{reason=\"truncated\"} 1031",
      "lockmesh_datagrams_dropped_total{reason=\"unknown_version\"} 1032",
      "lockmesh_datagrams_dropped_total{reason=\"unknown_key\"} 1033",
      "lockmesh_datagrams_dropped_total{reason=\"unauthenticated\"} 1034",
      "lockmesh_datagrams_dropped_total{reason=\"replayed\"} 1035",
      "lockmesh_datagrams_dropped_total{reason=\"malformed\"} 1036",
      "lockmesh_messages_dropped_total{reason=\"voter_set_mismatch\"} 1037",
      "lockmesh_messages_dropped_total{reason=\"misaddressed\"} 1038",
      "lockmesh_messages_dropped_total{reason=\"unroutable\"} 1039",
      "lockmesh_voter 1",
      "lockmesh_quarantined 1",
      "lockmesh_quarantine_remaining_seconds 12.345",
  };
  const std::vector<std::string> lines = Lines(text);
  for (const std::string& line : expected) {
    EXPECT_EQ(std::count(lines.begin(), lines.end(), line), 1) << line;
  }
  // Samples: the expected ones plus 42 histogram buckets, nothing else.
  const auto samples =
      std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l[0] != '#'; });
  EXPECT_EQ(static_cast<std::size_t>(samples), expected.size() + Histogram::kBuckets);
}

TEST(PrometheusTextTest, FalseAndZeroAreWrittenAsZero) {
  const std::string text = PrometheusText(Metrics{});
  const std::vector<std::string> lines = Lines(text);
  for (const char* line :
       {"lockmesh_breaker_open 0", "lockmesh_voter 0", "lockmesh_quarantined 0",
        "lockmesh_quarantine_remaining_seconds 0", "lockmesh_acquire_latency_seconds_sum 0",
        "lockmesh_acquire_latency_seconds_bucket{le=\"+Inf\"} 0",
        "lockmesh_acquires_total{outcome=\"succeeded\"} 0"}) {
    EXPECT_THAT(lines, Contains(line));
  }
  // A negative remaining time (a clock read just past the end) is not a negative gauge.
  Metrics m;
  m.quarantine_remaining_ms = -5;
  EXPECT_THAT(Lines(PrometheusText(m)), Contains("lockmesh_quarantine_remaining_seconds 0"));
}

TEST(PrometheusTextTest, FormatIsExactAndFamiliesAreDeclaredOnce) {
  const std::vector<std::string> lines = Lines(PrometheusText(testing::FilledMetrics()));
  absl::flat_hash_set<std::string> families;
  std::string family, type;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    ASSERT_FALSE(line.empty()) << "blank line " << i;
    if (absl::StartsWith(line, "# HELP ")) {
      std::vector<std::string> words = absl::StrSplit(line, absl::MaxSplits(' ', 3));
      ASSERT_EQ(words.size(), 4u) << line;
      family = words[2];
      EXPECT_TRUE(absl::StartsWith(family, "lockmesh_")) << line;
      EXPECT_TRUE(families.insert(family).second) << "HELP twice: " << line;
      ASSERT_LT(i + 1, lines.size());
      std::vector<std::string> t = absl::StrSplit(lines[i + 1], ' ');
      ASSERT_EQ(t.size(), 4u) << lines[i + 1];
      EXPECT_EQ(t[0] + " " + t[1] + " " + t[2], "# TYPE " + family) << "TYPE must follow HELP";
      type = t[3];
      ++i;
      if (type == "counter") {
        EXPECT_TRUE(absl::EndsWith(family, "_total")) << family;
      }
      if (type == "histogram") {
        EXPECT_TRUE(absl::EndsWith(family, "_seconds")) << family;
      }
      EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << type;
      continue;
    }
    ASSERT_NE(line[0], '#') << "a comment other than HELP/TYPE: " << line;
    ASSERT_FALSE(family.empty()) << "a sample before any TYPE: " << line;
    // The sample belongs to the family just declared.
    const std::string name = line.substr(0, line.find_first_of("{ "));
    if (type == "histogram") {
      EXPECT_TRUE(name == family + "_bucket" || name == family + "_sum" ||
                  name == family + "_count")
          << line;
    } else {
      EXPECT_EQ(name, family) << line;
    }
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) << line;
  }
  EXPECT_EQ(families.size(), 31u);  // the names in EveryFieldAppearsUnderItsNameWithItsValue
}

TEST(PrometheusTextTest, LatencyHistogramIsCumulativeInSecondsEndingAtInf) {
  const Metrics m = testing::FilledMetrics();
  const std::string text = PrometheusText(m);
  const auto buckets = Buckets(text);
  ASSERT_EQ(buckets.size(), static_cast<std::size_t>(Histogram::kBuckets));
  double previous_le = 0;
  uint64_t previous_count = 0;
  for (std::size_t i = 0; i + 1 < buckets.size(); ++i) {
    double le = 0;
    ASSERT_TRUE(absl::SimpleAtod(buckets[i].first, &le)) << buckets[i].first;
    // Exactly Histogram::Bound(i) µs in seconds.
    EXPECT_EQ(static_cast<uint64_t>(std::llround(le * 1e6)), Histogram::Bound(i)) << i;
    EXPECT_GT(le, previous_le) << i;
    EXPECT_GE(buckets[i].second, previous_count) << i;
    previous_le = le;
    previous_count = buckets[i].second;
  }
  EXPECT_EQ(buckets.back().first, "+Inf");
  EXPECT_EQ(buckets.back().second, m.acquire_latency.count);
  EXPECT_GE(buckets.back().second, previous_count);
  // The recorded latencies (10, 64, 100, 5000 µs, 1.5 s, 100 s), bucket by bucket: values below
  // a bound count at its `le`, a value on a bound counts at the next.
  const std::vector<std::pair<std::string, uint64_t>> spot = {
      {"0.000064", 1}, {"0.000091", 2}, {"0.000128", 3}, {"0.004096", 3},
      {"0.005793", 4}, {"1.48291", 4},  {"2.097152", 5}, {"67.108864", 5}};
  for (const auto& [le, count] : spot) {
    EXPECT_THAT(buckets, Contains(std::make_pair(le, count))) << le;
  }
  EXPECT_THAT(Lines(text), Contains("lockmesh_acquire_latency_seconds_count 6"));
}

TEST(PrometheusTextTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue(""), "");
}

// promtool from PATH, or "" when it is not installed.
std::string FindPromtool() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = std::string(dir) + "/promtool";
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Runs `promtool check metrics` on `text` (stdin); its exit status, its output in `output`.
int PromtoolCheck(const std::string& promtool, const std::string& text, std::string* output) {
  const std::string dir = ::testing::TempDir();
  const std::string in = dir + "/metrics_text_test.in", out = dir + "/metrics_text_test.out";
  std::ofstream(in, std::ios::binary) << text;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv = {const_cast<char*>(promtool.c_str()), const_cast<char*>("check"),
                             const_cast<char*>("metrics"), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, promtool.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  std::stringstream s;
  s << std::ifstream(out).rdbuf();
  *output = s.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PrometheusTextTest, PromtoolCheckMetricsPasses) {
  const std::string promtool = FindPromtool();
  if (promtool.empty()) {
    GTEST_SKIP() << "promtool is not on PATH (Debian package prometheus; tools/dev test "
                    "installs it)";
  }
  std::string output;
  // promtool finds fault with a counter lacking _total: the check can fail.
  EXPECT_EQ(PromtoolCheck(promtool, "# HELP bad A.\n# TYPE bad counter\nbad 1\n", &output), 3)
      << output;
  EXPECT_THAT(output, ::testing::HasSubstr("_total"));
  for (const Metrics& m : {testing::FilledMetrics(), Metrics{}}) {
    EXPECT_EQ(PromtoolCheck(promtool, PrometheusText(m), &output), 0) << output;
    EXPECT_EQ(output, "");
  }
}

}  // namespace
}  // namespace lockmesh::tools
