// The pure parts of `lockmesh`: durations, the command line, reading answers, tables, and the
// mapping from failures to exit codes. Each bad input says what it gets.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tools/cli/api_client.h"
#include "tools/cli/args.h"
#include "tools/cli/exit_codes.h"
#include "tools/cli/failure.h"
#include "tools/cli/run.h"
#include "tools/cli/table.h"
#include "tools/limits.h"

namespace lockmesh::cli {
namespace {

using std::chrono::milliseconds;

TEST(CliDuration, ReadsWhatPeopleType) {
  EXPECT_EQ(*ParseDuration("30s", false), milliseconds(30'000));
  EXPECT_EQ(*ParseDuration("1500ms", false), milliseconds(1'500));
  EXPECT_EQ(*ParseDuration("2m", false), milliseconds(120'000));
  EXPECT_EQ(*ParseDuration("1h", false), milliseconds(3'600'000));
  EXPECT_EQ(*ParseDuration("1m30s", false), milliseconds(90'000));
  EXPECT_EQ(*ParseDuration("1.5s", false), milliseconds(1'500));
  EXPECT_EQ(*ParseDuration("0", true), milliseconds(0));
  EXPECT_EQ(*ParseDuration("0s", true), milliseconds(0));
}

TEST(CliDuration, RefusesWithAMessageNamingTheText) {
  struct Bad {
    const char* text;
    bool allow_zero;
    const char* says;
  };
  for (const Bad& bad : {Bad{"30", false, "needs a unit"}, Bad{"", false, "not a duration"},
                         Bad{"-1s", false, "not a duration"}, Bad{"+1s", false, "not a duration"},
                         Bad{"abc", false, "not a duration"}, Bad{"10 s", false, "not a duration"},
                         Bad{"inf", false, "not a duration"}, Bad{"0", false, "needs a unit"},
                         Bad{"0s", false, "more than 0"}, Bad{"25h", false, "longer than a day"},
                         Bad{"1500us", false, "whole number of milliseconds"}}) {
    absl::StatusOr<milliseconds> d = ParseDuration(bad.text, bad.allow_zero);
    ASSERT_FALSE(d.ok()) << bad.text;
    EXPECT_TRUE(absl::IsInvalidArgument(d.status()));
    EXPECT_NE(d.status().message().find(bad.says), std::string::npos) << d.status().message();
    EXPECT_NE(d.status().message().find(std::string("\"") + bad.text + "\""), std::string::npos);
  }
}

TEST(CliArgs, RunWithEverything) {
  absl::StatusOr<Invocation> inv =
      ParseArgs({"run", "jobs/nightly", "--ttl", "5s", "--wait=0", "--grace", "250ms",
                 "--socket=/tmp/n.sock", "--", "sh", "-c", "echo --ttl", "--"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->verb, Verb::kRun);
  EXPECT_EQ(inv->operand, "jobs/nightly");
  EXPECT_EQ(inv->ttl, milliseconds(5'000));
  EXPECT_EQ(inv->wait, milliseconds(0));
  EXPECT_EQ(inv->grace, milliseconds(250));
  EXPECT_EQ(inv->socket, "/tmp/n.sock");
  EXPECT_FALSE(inv->join);
  // Everything after the first `--` is the command's, flags and `--` included.
  EXPECT_EQ(inv->command, (std::vector<std::string>{"sh", "-c", "echo --ttl", "--"}));
}

TEST(CliArgs, Defaults) {
  absl::StatusOr<Invocation> inv = ParseArgs({"run", "x", "--", "true"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->ttl, milliseconds(30'000));
  EXPECT_EQ(inv->wait, milliseconds(10'000));
  EXPECT_EQ(inv->grace, milliseconds(10'000));
  EXPECT_TRUE(inv->socket.empty());
}

TEST(CliArgs, JoinTakesTheNodeFlags) {
  absl::StatusOr<Invocation> inv =
      ParseArgs({"run", "x", "--join", "--voters=a@127.0.0.1:1", "--cluster", "c", "--key_file=/k",
                 "--timing=local", "--", "true"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->join);
  EXPECT_EQ(
      inv->node_flags,
      (std::vector<std::pair<std::string, std::string>>{
          {"voters", "a@127.0.0.1:1"}, {"cluster", "c"}, {"key_file", "/k"}, {"timing", "local"}}));
}

TEST(CliArgs, ReadVerbs) {
  EXPECT_EQ(ParseArgs({"status"})->verb, Verb::kStatus);
  EXPECT_TRUE(ParseArgs({"members", "--json"})->json);
  absl::StatusOr<Invocation> holder = ParseArgs({"holder", "a b", "--socket", "/s"});
  ASSERT_TRUE(holder.ok());
  EXPECT_EQ(holder->operand, "a b");
  EXPECT_EQ(ParseArgs({"keygen", "/tmp/k"})->operand, "/tmp/k");
  EXPECT_EQ(ParseArgs({"--help"})->verb, Verb::kHelp);
  EXPECT_EQ(ParseArgs({"run", "x", "-h"})->verb, Verb::kHelp);
}

TEST(CliArgs, UsageErrorsSayWhatIsWrong) {
  struct Bad {
    std::vector<std::string> args;
    const char* says;
  };
  const std::vector<Bad> bads = {
      {{}, "no command given"},
      {{"lock", "x"}, "unknown command \"lock\""},
      {{"run", "x", "true"}, "needs the command after `--`"},
      {{"run", "x", "--"}, "needs the command after `--`"},
      {{"run", "--", "true"}, "takes one NAME argument"},
      {{"run", "", "--", "true"}, "must not be empty"},
      {{"run", "x", "--ttl", "30", "--", "true"}, "--ttl: \"30\" needs a unit"},
      {{"run", "x", "--wait", "--", "true"}, "--wait needs a value"},
      {{"run", "x", "--json", "--", "true"}, "unknown flag --json"},
      {{"run", "x", "-v", "--", "true"}, "unknown flag -v"},
      {{"run", "x", "--voters=a", "--", "true"}, "--voters is a node flag: it needs --join"},
      {{"run", "x", "--join", "--key=abc", "--", "true"}, "use --key_file"},
      {{"run", "x", "--join", "--bootstrap", "--", "true"}, "unknown flag --bootstrap"},
      {{"run", "x", "--join", "--socket=/s", "--", "true"}, "exclude each other"},
      {{"run", "x", "--join=yes", "--", "true"}, "--join takes no value"},
      {{"status", "extra"}, "takes no arguments"},
      {{"status", "--ttl=1s"}, "unknown flag --ttl"},
      {{"members", "--", "x"}, "takes no `--`"},
      {{"holder"}, "takes one NAME argument"},
      {{"keygen"}, "takes one FILE argument"},
      {{"keygen", "a", "b"}, "takes one FILE argument"},
      {{"keygen", "--socket=/s", "k"}, "unknown flag --socket"},
  };
  for (const Bad& bad : bads) {
    absl::StatusOr<Invocation> inv = ParseArgs(bad.args);
    ASSERT_FALSE(inv.ok()) << bad.says;
    EXPECT_EQ(ExitOf(inv.status()), kExitUsage);
    EXPECT_NE(inv.status().message().find(bad.says), std::string::npos) << inv.status().message();
  }
}

TEST(CliAnswer, ReadsTheApisAnswers) {
  absl::StatusOr<tools::JsonValue> j =
      ParseAnswer(R"( {"lease_id":"7","token":18446744073709551615,"lost":false,"x":null,)"
                  R"("leases":[{"a":1.5e3},[]]} )");
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(j->Find("token")->uint64(), 18446744073709551615u);  // exact: a double rounds it
  EXPECT_EQ(Cell(*j->Find("lease_id")), "7");
  EXPECT_EQ(Cell(*j->Find("lost")), "false");
  EXPECT_EQ(Cell(*j->Find("x")), "-");
  EXPECT_EQ(Cell(*j->Find("leases")), R"([{"a":1.5e3},[]])");
}

TEST(CliAnswer, BoundsNestingNotWidth) {
  // A large cluster's member list passes the request bodies' element bound; the answer's
  // size bounds it instead.
  std::string wide = "[";
  for (std::size_t i = 0; i < tools::kJsonMembersMax * 4; ++i) {
    absl::StrAppend(&wide, i ? "," : "", R"({"name":"n)", i, R"("})");
  }
  EXPECT_TRUE(ParseAnswer(wide + "]").ok());
  std::string deep(tools::kCliJsonDepthMax + 1, '[');
  deep += std::string(tools::kCliJsonDepthMax + 1, ']');
  absl::StatusOr<tools::JsonValue> j = ParseAnswer(deep);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("nested too deeply"), std::string::npos) << j.status();
  EXPECT_NE(j.status().message().find("at byte"), std::string::npos);
  EXPECT_TRUE(ParseAnswer(deep.substr(1, deep.size() - 2)).ok());
}

TEST(CliTable, AlignsColumns) {
  EXPECT_EQ(RenderTable({"NAME", "STATE"}, {{"n1", "alive"}, {"node-22", "suspect"}, {"é"}}),
            "NAME     STATE\n"
            "n1       alive\n"
            "node-22  suspect\n"
            "é\n");
}

TEST(CliTable, ObjectsBecomeRows) {
  absl::StatusOr<tools::JsonValue> members =
      ParseAnswer(R"({"members":[{"name":"n1","state":"alive","voter":true},)"
                  R"({"name":"n2","address":"127.0.0.1:7102","state":"left","voter":false}]})");
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(TableOfObjects(*members->Find("members")),
            "NAME  STATE  VOTER  ADDRESS\n"
            "n1    alive  true   -\n"
            "n2    left   false  127.0.0.1:7102\n");
  EXPECT_EQ(TableOfObjects(*ParseAnswer("[]")), "(none)\n");
}

TEST(CliTable, ReportsScalarsThenTables) {
  absl::StatusOr<tools::JsonValue> status =
      ParseAnswer(R"({"name":"n1","quarantine":false,"breaker":{"state":"closed","failures":0},)"
                  R"("leases":[{"resource":"a","token":42}]})");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(RenderReport(*status),
            "name:              n1\n"
            "quarantine:        false\n"
            "breaker.state:     closed\n"
            "breaker.failures:  0\n"
            "\n"
            "leases:\n"
            "RESOURCE  TOKEN\n"
            "a         42\n");
}

TEST(CliFailure, HttpAnswersMapToOneExitCodeEach) {
  const std::string body = R"({"error":{"code":"UNAVAILABLE","message":"no quorum"}})";
  struct Case {
    int http;
    ExitCode exit;
  };
  for (const Case& c :
       {Case{400, kExitUsage}, Case{413, kExitUsage}, Case{409, kExitWaitTimedOut},
        Case{504, kExitWaitTimedOut}, Case{410, kExitLeaseLost}, Case{429, kExitNoQuorum},
        Case{503, kExitNoQuorum}, Case{499, kExitNodeNotRunning}, Case{404, kExitProtocol},
        Case{500, kExitProtocol}}) {
    const absl::Status s = FromHttp(c.http, body);
    EXPECT_EQ(ExitOf(s), c.exit) << c.http;
    EXPECT_EQ(s.message(), "no quorum (HTTP " + std::to_string(c.http) + ")");
  }
  EXPECT_EQ(FromHttp(502, "not json").message(), "the node answered HTTP 502");
}

TEST(CliFailure, LibraryStatusesMapAsTheNodeHeaderSays) {
  EXPECT_EQ(ExitOf(absl::OkStatus()), kExitOk);
  EXPECT_EQ(ExitOf(absl::DeadlineExceededError("")), kExitWaitTimedOut);
  EXPECT_EQ(ExitOf(absl::AbortedError("")), kExitWaitTimedOut);
  EXPECT_EQ(ExitOf(absl::UnavailableError("")), kExitNoQuorum);
  EXPECT_EQ(ExitOf(absl::ResourceExhaustedError("")), kExitNoQuorum);
  EXPECT_EQ(ExitOf(absl::InvalidArgumentError("")), kExitUsage);
  EXPECT_EQ(ExitOf(absl::CancelledError("")), kExitNodeNotRunning);
  EXPECT_EQ(ExitOf(absl::InternalError("")), kExitInternal);
  // Annotate keeps the exit code.
  EXPECT_EQ(ExitOf(Annotate(Fail(kExitPermission, "denied"), "x: ")), kExitPermission);
  EXPECT_EQ(Annotate(Fail(kExitPermission, "denied"), "x: ").message(), "x: denied");
}

TEST(CliRun, WatchPeriodFollowsTheTtl) {
  EXPECT_EQ(WatchPeriod(milliseconds(30'000)), milliseconds(1'000));
  EXPECT_EQ(WatchPeriod(milliseconds(2'000)), milliseconds(200));
  EXPECT_EQ(WatchPeriod(milliseconds(100)), milliseconds(20));
}

}  // namespace
}  // namespace lockmesh::cli
