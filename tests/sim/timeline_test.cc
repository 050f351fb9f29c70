// The timeline page of a run (sim/timeline.h): its data agrees with the run's
// own report, recording it changes nothing in the run, the page is one file
// that needs no network, and text from a scenario cannot break out of it.
#include "sim/timeline.h"

#include <unistd.h>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/limits.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace lockmesh::sim {
namespace {

namespace pt = boost::property_tree;

constexpr char kDataOpen[] = "<script type=\"application/json\" id=\"timeline-data\">\n";

Scenario Load(const std::string& name) {
  absl::StatusOr<Scenario> s = LoadScenario(absl::StrCat(LOCKMESH_SCENARIO_DIR, "/", name));
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

struct Recorded {
  RunResult result;
  std::string page;
};

Recorded Record(const Scenario& scenario, uint64_t seed) {
  TimelineRecorder timeline(scenario.Nodes());
  Simulation sim(scenario, seed, nullptr);
  sim.RecordTimeline(&timeline);
  Recorded r;
  r.result = sim.Run();
  r.page = TimelinePage(scenario, seed, r.result, timeline);
  return r;
}

// The JSON the page embeds, parsed by an independent reader.
pt::ptree EmbeddedData(const std::string& page) {
  const std::size_t open = page.find(kDataOpen);
  EXPECT_NE(open, std::string::npos);
  const std::size_t start = open + sizeof(kDataOpen) - 1;
  const std::size_t end = page.find("</script>", start);
  std::istringstream in(page.substr(start, end - start));
  pt::ptree data;
  pt::read_json(in, data);
  return data;
}

// Numbers and flags read as text: property_tree's typed get trips GCC's
// maybe-uninitialized warning under the sanitizers' optimisation.
int64_t Int(const pt::ptree& tree, const std::string& key) {
  return std::stoll(tree.get<std::string>(key));
}
bool Flag(const pt::ptree& tree, const std::string& key) {
  return tree.get<std::string>(key) == "true";
}

int CountWhere(const pt::ptree& list, const std::string& key, const std::string& value) {
  int n = 0;
  for (const auto& [unused, item] : list) n += item.get<std::string>(key) == value;
  return n;
}

int Occurrences(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(TimelineTest, DataAgreesWithTheRunsReport) {
  const Scenario scenario = Load("partition-story.scn");
  const Recorded r = Record(scenario, 1);
  const RunStats& s = r.result.stats;
  const pt::ptree data = EmbeddedData(r.page);

  // The story: leases handed on after the holder is cut off and paused, its
  // stale write refused by the fenced store.
  ASSERT_GE(s.grants, 2u);
  ASSERT_GE(s.stale_refused, 1u);
  const pt::ptree& leases = data.get_child("leases");
  EXPECT_EQ(leases.size(), s.grants);
  EXPECT_EQ(CountWhere(leases, "how", "released"), static_cast<int>(s.releases));
  EXPECT_EQ(CountWhere(leases, "how", "lost"), static_cast<int>(s.expiries));
  const pt::ptree& store = data.get_child("store");
  EXPECT_EQ(CountWhere(store, "outcome", "written"), static_cast<int>(s.writes));
  EXPECT_EQ(CountWhere(store, "outcome", "write refused"), static_cast<int>(s.stale_refused));
  EXPECT_EQ(CountWhere(store, "outcome", "lost update"), 0);
  EXPECT_EQ(data.get_child("faults").size(), s.faults);
  EXPECT_EQ(data.get_child("violations").size(), r.result.violations.size());
  EXPECT_EQ(Int(data, "stats.grants"), static_cast<int64_t>(s.grants));
  EXPECT_TRUE(Flag(data, "pass"));

  // Every token the run granted, in grant order, strictly rising (S2 held).
  std::string previous;
  for (const auto& [unused, lease] : leases) {
    const std::string token = lease.get<std::string>("token");
    EXPECT_TRUE(previous.empty() || std::stod(token) > std::stod(previous)) << token;
    EXPECT_LE(Int(lease, "start"), Int(lease, "end"));
    previous = token;
  }
  // The first holder (n4) was paused past its deadline: its bar ends when it
  // learned of the loss, after the deadline passed.
  const pt::ptree& first = leases.front().second;
  EXPECT_EQ(first.get<std::string>("how"), "lost");
  EXPECT_LT(Int(first, "valid_until"), Int(first, "end"));
  const int64_t holder = Int(first, "node");
  const pt::ptree& pauses = data.get_child("pauses");
  ASSERT_EQ(pauses.size(), 1u);
  EXPECT_EQ(Int(pauses.front().second, "node"), holder);
  EXPECT_EQ(Int(pauses.front().second, "end") - Int(pauses.front().second, "start"), 6'000'000);

  // The partition isolates the holder: it reaches nobody and nobody reaches it.
  const pt::ptree& network = data.get_child("network");
  ASSERT_EQ(network.size(), 3u);  // connected, the holder isolated, healed
  std::vector<std::string> reach;
  for (const auto& [unused, row] : std::next(network.begin())->second.get_child("reach")) {
    reach.push_back(row.get_value<std::string>());
  }
  ASSERT_EQ(reach.size(), static_cast<std::size_t>(scenario.Nodes()));
  for (int i = 0; i < scenario.Nodes(); ++i) {
    for (int j = 0; j < scenario.Nodes(); ++j) {
      const bool cut = i != j && (i == holder || j == holder);
      EXPECT_EQ(reach[i][j], cut ? '0' : '1') << i << "->" << j;
    }
  }
}

TEST(TimelineTest, ViolationsAreInTheData) {
  Scenario scenario = Load("voter-restart.scn");
  ASSERT_TRUE(ApplyUnsafe("no-quarantine", scenario).ok());
  const Recorded r = Record(scenario, 1);
  ASSERT_FALSE(r.result.violations.empty());
  const pt::ptree data = EmbeddedData(r.page);
  const pt::ptree& violations = data.get_child("violations");
  ASSERT_EQ(violations.size(), r.result.violations.size());
  EXPECT_EQ(violations.front().second.get<std::string>("detail"), r.result.violations[0].detail);
  EXPECT_EQ(Int(violations.front().second, "at"), r.result.violations[0].at_us);
  EXPECT_FALSE(Flag(data, "pass"));
  // Crashed nodes show as down, and a lease that a crash ended ends where a
  // stretch down of its node begins.
  std::set<std::pair<int64_t, int64_t>> crashes;
  for (const auto& [unused, span] : data.get_child("down")) {
    EXPECT_EQ(span.get<std::string>("what"), "crashed");
    crashes.insert({Int(span, "node"), Int(span, "start")});
  }
  EXPECT_FALSE(crashes.empty());
  int ended_by_crash = 0;
  for (const auto& [unused, lease] : data.get_child("leases")) {
    if (lease.get<std::string>("how") != "crashed") continue;
    ++ended_by_crash;
    EXPECT_TRUE(crashes.contains({Int(lease, "node"), Int(lease, "end")}));
  }
  EXPECT_GT(ended_by_crash, 0);
}

// Recording only observes: the same seed gives the same trace with or without.
TEST(TimelineTest, RecordingChangesNothingInTheRun) {
  for (const char* name : {"partition-story.scn", "all-restart.scn", "wall-clock-jump.scn",
                           "gossip-views-disagree.scn"}) {
    const Scenario scenario = Load(name);
    Simulation plain(scenario, 77, nullptr);
    const RunResult without = plain.Run();
    const Recorded with = Record(scenario, 77);
    EXPECT_EQ(without.trace_hash, with.result.trace_hash) << name;
    EXPECT_EQ(without.stats.events, with.result.stats.events) << name;
    EXPECT_EQ(without.stats.grants, with.result.stats.grants) << name;
  }
}

TEST(TimelineTest, PageIsOneFileWithNothingToFetch) {
  const Scenario scenario = Load("gc-pause.scn");
  TimelineRecorder timeline(scenario.Nodes());
  Simulation sim(scenario, 3, nullptr);
  sim.RecordTimeline(&timeline);
  const RunResult result = sim.Run();
  const std::string path = absl::StrCat(::testing::TempDir(), "/timeline_", getpid(), ".html");
  ASSERT_TRUE(WriteTimelinePage(path, scenario, 3, result, timeline).ok());
  std::ifstream in(path, std::ios::binary);
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  EXPECT_EQ(page, TimelinePage(scenario, 3, result, timeline));
  EXPECT_TRUE(absl::StartsWith(page, "<!doctype html>"));
  EXPECT_TRUE(absl::EndsWith(page, "</html>\n"));
  for (const char* outside : {"http://", "https://", "//cdn", "src=", "href=", "<link", "@import",
                              "url(http", "fetch(", "XMLHttpRequest"}) {
    EXPECT_FALSE(absl::StrContains(page, outside)) << outside;
  }
  EXPECT_EQ(Occurrences(page, "<script"), 2);  // the data and the script, both inline
  EXPECT_EQ(Occurrences(page, "</script>"), 2);
  EXPECT_EQ(Occurrences(page, "<style>"), 1);
}

TEST(TimelineTest, ScenarioTextCannotBreakOutOfThePage) {
  const std::string hostile =
      "</script><script>alert(1)</script> <!-- & \"quoted\" \\ \xe2\x80\xa8";
  absl::StatusOr<Scenario> scenario = ParseScenario(absl::StrCat(
      "name </script><b>x</b>\ndescribe ", hostile, "\nvoters 3\nat 2s crash n1\nrun 5s\n"));
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  const Recorded r = Record(*scenario, 1);
  // Only the page's own two elements open or close a script.
  EXPECT_EQ(Occurrences(r.page, "<script"), 2);
  EXPECT_EQ(Occurrences(r.page, "</script"), 2);
  EXPECT_FALSE(absl::StrContains(r.page, "<!--"));
  EXPECT_FALSE(absl::StrContains(r.page, "<b>"));
  // And the text arrives intact for the script to show.
  const pt::ptree data = EmbeddedData(r.page);
  EXPECT_EQ(data.get<std::string>("scenario.name"), "</script><b>x</b>");
  EXPECT_EQ(data.get<std::string>("scenario.description"), hostile);
}

TEST(TimelineTest, JsonStringEscapes) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("</script>"), "\"\\u003c/script\\u003e\"");
  EXPECT_EQ(JsonString("&amp;"), "\"\\u0026amp;\"");
  EXPECT_EQ(JsonString("line\nnext\t\x01\x7f"), "\"line\\u000anext\\u0009\\u0001\\u007f\"");
  EXPECT_EQ(JsonString("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");  // kept
  EXPECT_EQ(JsonString("\xe2\x80\xa8\xe2\x80\xa9"), "\"\\u2028\\u2029\"");
  // Invalid UTF-8 (a lone continuation byte, a truncated sequence, an overlong
  // form, a surrogate) becomes U+FFFD, a byte at a time.
  EXPECT_EQ(JsonString("a\x80z"), "\"a\\ufffdz\"");
  EXPECT_EQ(JsonString("\xe2\x82"), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(JsonString("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(JsonString("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
}

// Past a cap the recorder keeps the first records and counts the rest; refusals
// have a cap of their own so accepted writes never crowd them out.
TEST(TimelineTest, CapsKeepTheFirstAndSaySo) {
  TimelineRecorder timeline(2);
  for (int64_t i = 0; i < kTimelineWritesMax + 5; ++i) {
    timeline.StoreOperation(i, 0, 0, "res-0", 10, 10, StoreOutcome::kWritten);
  }
  timeline.StoreOperation(kTimelineWritesMax + 5, 1, 1, "res-0", 9, 10, StoreOutcome::kRefused);
  ASSERT_EQ(timeline.store().size(), static_cast<std::size_t>(kTimelineWritesMax + 1));
  EXPECT_EQ(timeline.store().back().outcome, StoreOutcome::kRefused);
  EXPECT_EQ(timeline.store()[kTimelineWritesMax - 1].at_us, kTimelineWritesMax - 1);
  const std::vector<std::string> truncated = timeline.Truncated();
  ASSERT_EQ(truncated.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(truncated[0], "5 fenced store operations not shown"))
      << truncated[0];

  TimelineRecorder quiet(2);
  quiet.StoreOperation(0, 0, 0, "res-0", 10, 10, StoreOutcome::kWritten);
  EXPECT_TRUE(quiet.Truncated().empty());
}

// A node that crashes ends its lease and its wait; the end of the run closes
// what is still open.
TEST(TimelineTest, CrashAndRunEndCloseWhatIsOpen) {
  TimelineRecorder timeline(2);
  core::LeaseEvent granted{
      .kind = core::LeaseEvent::Kind::kGranted, .request = 7, .resource = "res-0", .token = 42};
  timeline.Asked(100, 0, 0, 7, "res-0");
  timeline.LeaseEvent(200, 0, 0, granted, 2'200);
  timeline.Asked(150, 1, 1, 3, "res-0");
  timeline.NodeDown(1'000, 0, "crashed");
  timeline.Finish(5'000);
  ASSERT_EQ(timeline.leases().size(), 1u);
  EXPECT_EQ(timeline.leases()[0].end_us, 1'000);
  EXPECT_EQ(timeline.leases()[0].end, "crashed");
  ASSERT_EQ(timeline.waits().size(), 2u);
  EXPECT_EQ(timeline.waits()[0].end, "granted");
  EXPECT_EQ(timeline.waits()[1].end, "run ends");
  EXPECT_EQ(timeline.waits()[1].end_us, 5'000);
  ASSERT_EQ(timeline.down().size(), 1u);
  EXPECT_EQ(timeline.down()[0].end_us, 5'000);  // never restarted
}

TEST(TimelineTest, UnwritablePathIsAClearError) {
  const Scenario scenario = Load("gc-pause.scn");
  TimelineRecorder timeline(scenario.Nodes());
  const RunResult result;
  const absl::Status s =
      WriteTimelinePage("/nonexistent-dir/timeline.html", scenario, 1, result, timeline);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "/nonexistent-dir/timeline.html")) << s;
}

}  // namespace
}  // namespace lockmesh::sim
