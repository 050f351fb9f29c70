// The local lock API of real lockmesh-node processes (docs/local-api.md), through its Unix
// socket: a three-voter cluster on loopback per test.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/api_client.h"
#include "tests/tools/node_cluster.h"

namespace lockmesh::testing {
namespace {

using namespace std::chrono_literals;

std::string Acquire(absl::string_view resource, int ttl_ms = 10000, int wait_ms = 10000) {
  return absl::StrCat(R"({"resource": ")", resource, R"(", "ttl_ms": )", ttl_ms, R"(, "wait_ms": )",
                      wait_ms, "}");
}

// A member of a reply's JSON object (null if absent).
tools::JsonValue Member(const Reply& r, absl::string_view name) {
  absl::StatusOr<tools::JsonValue> v = r.Json();
  const tools::JsonValue* m = v.ok() && v->is_object() ? v->Find(name) : nullptr;
  return m == nullptr ? tools::JsonValue() : *m;
}
uint64_t TokenOf(const Reply& r) {
  const tools::JsonValue t = Member(r, "token");
  uint64_t v = 0;
  return t.type() == tools::JsonValue::Type::kNumber && absl::SimpleAtoi(t.number_text(), &v) ? v
                                                                                              : 0;
}
int64_t IntOf(const Reply& r, absl::string_view name) {
  return Member(r, name).integer().value_or(-1);
}
std::string LeaseIdOf(const Reply& r) { return Member(r, "lease_id").string(); }
std::string Release(const std::string& id) { return absl::StrCat(R"({"lease_id": ")", id, "\"}"); }

class NodeApiTest : public ::testing::Test {
 protected:
  std::unique_ptr<ApiClient> Client(int node = 0) {
    std::unique_ptr<ApiClient> c = ApiClient::Unix(cluster_.socket(node));
    EXPECT_TRUE(c->connected()) << c->error().message();
    return c;
  }
  NodeCluster cluster_{3};
};

TEST_F(NodeApiTest, AcquireHolderReleaseThroughTheSocket) {
  auto a = Client(0);
  const Reply got = a->Call("POST", "/v1/acquire", Acquire("jobs/nightly", 5000));
  ASSERT_EQ(got.status, 200u) << got.body;
  EXPECT_EQ(got.content_type, "application/json");
  EXPECT_GT(TokenOf(got), 0u);
  EXPECT_EQ(IntOf(got, "ttl_ms"), 5000);
  EXPECT_GT(IntOf(got, "expires_in_ms"), 0);
  EXPECT_LE(IntOf(got, "expires_in_ms"), 5000);
  const std::string id = LeaseIdOf(got);
  ASSERT_FALSE(id.empty()) << got.body;

  // Another connection of the same node sees it held here, with the same token.
  auto b = Client(0);
  const Reply held = b->Call("GET", "/v1/holder?resource=jobs%2Fnightly");
  ASSERT_EQ(held.status, 200u) << held.body;
  EXPECT_TRUE(Member(held, "held_here").boolean()) << held.body;
  EXPECT_EQ(TokenOf(held), TokenOf(got));
  // The lease is the first connection's: the second neither lists nor releases it.
  EXPECT_EQ(b->Call("GET", "/v1/leases").body, R"({"leases":[]})");
  EXPECT_EQ(b->Call("POST", "/v1/release", Release(id)).status, 404u);
  const Reply mine = a->Call("GET", "/v1/leases");
  EXPECT_NE(mine.body.find(absl::StrCat("\"lease_id\":\"", id, "\"")), std::string::npos)
      << mine.body;

  const Reply released = a->Call("POST", "/v1/release", Release(id));
  EXPECT_EQ(released.status, 200u) << released.body;
  EXPECT_EQ(released.body, R"({"released":true})");
  EXPECT_FALSE(Member(b->Call("GET", "/v1/holder?resource=jobs/nightly"), "held_here").boolean());
  // Released already: this connection holds no such lease.
  const Reply again = a->Call("POST", "/v1/release", Release(id));
  EXPECT_EQ(again.status, 404u) << again.body;
  EXPECT_EQ(again.ErrorCode(), "NOT_FOUND");
}

TEST_F(NodeApiTest, ASecondClientLongPollsAndGetsTheLeaseAfterTheRelease) {
  auto a = Client(0);
  const Reply first = a->Call("POST", "/v1/acquire", Acquire("contended", 10000));
  ASSERT_EQ(first.status, 200u) << first.body;
  // A try-acquire through another node finds it held.
  auto b = Client(1);
  const Reply tried = b->Call("POST", "/v1/acquire", R"({"resource": "contended", "try": true})");
  EXPECT_EQ(tried.status, 409u) << tried.body;
  EXPECT_EQ(tried.ErrorCode(), "ABORTED");
  // The long poll waits while the lease is held...
  b->Send("POST", "/v1/acquire", Acquire("contended", 10000, 20000));
  EXPECT_FALSE(b->ReplyReady(300ms)) << "answered while the lease was held";
  // ...and is answered soon after the release, with a larger token.
  const auto released_at = std::chrono::steady_clock::now();
  ASSERT_EQ(a->Call("POST", "/v1/release", Release(LeaseIdOf(first))).status, 200u);
  ASSERT_TRUE(b->ReplyReady(5s));
  const Reply second = b->Receive();
  const auto handoff = std::chrono::steady_clock::now() - released_at;
  ASSERT_EQ(second.status, 200u) << second.body;
  EXPECT_GT(TokenOf(second), TokenOf(first));
  EXPECT_LT(handoff, 2s);
}

TEST_F(NodeApiTest, ADroppedConnectionReleasesItsLeaseLongBeforeItsTtl) {
  auto a = Client(0);
  const Reply first = a->Call("POST", "/v1/acquire", Acquire("dropped", 20000));
  ASSERT_EQ(first.status, 200u) << first.body;
  auto b = Client(2);
  b->Send("POST", "/v1/acquire", Acquire("dropped", 10000, 25000));
  EXPECT_FALSE(b->ReplyReady(300ms)) << "answered while the lease was held";
  const auto dropped_at = std::chrono::steady_clock::now();
  a->Close();  // the client goes away without releasing
  ASSERT_TRUE(b->ReplyReady(10s)) << "the dropped connection's lease was not released";
  const Reply second = b->Receive();
  const auto waited = std::chrono::steady_clock::now() - dropped_at;
  ASSERT_EQ(second.status, 200u) << second.body;
  EXPECT_GT(TokenOf(second), TokenOf(first));
  EXPECT_LT(waited, 3s) << "the TTL was 20 s: the lease must go with the connection";
}

TEST_F(NodeApiTest, AClientThatLeavesWhileWaitingHasItsAcquireCancelled) {
  auto a = Client(0);
  const Reply first = a->Call("POST", "/v1/acquire", Acquire("cancelled", 10000));
  ASSERT_EQ(first.status, 200u) << first.body;
  auto waiter = Client(1);
  waiter->Send("POST", "/v1/acquire", Acquire("cancelled", 10000, 25000));
  EXPECT_FALSE(waiter->ReplyReady(300ms));
  waiter->Close();
  // The waiter's node holds nothing for it after the release: its request is gone, so the
  // lease is free for a try-acquire there.
  ASSERT_EQ(a->Call("POST", "/v1/release", Release(LeaseIdOf(first))).status, 200u);
  auto c = Client(1);
  Reply tried;
  for (int i = 0; i < 50; ++i) {  // the release reaches the voters asynchronously
    tried = c->Call("POST", "/v1/acquire", R"({"resource": "cancelled", "wait_ms": 2000})");
    if (tried.status == 200) break;
  }
  EXPECT_EQ(tried.status, 200u) << tried.body;
  EXPECT_TRUE(Member(c->Call("GET", "/v1/holder?resource=cancelled"), "held_here").boolean());
}

TEST_F(NodeApiTest, RenewMovesTheDeadlineAndKeepsTheToken) {
  auto a = Client(0);
  const Reply got = a->Call("POST", "/v1/acquire", Acquire("renewed", 1000));
  ASSERT_EQ(got.status, 200u) << got.body;
  const Reply renewed =
      a->Call("POST", "/v1/renew",
              absl::StrCat(R"({"lease_id": ")", LeaseIdOf(got), R"(", "ttl_ms": 20000})"));
  ASSERT_EQ(renewed.status, 200u) << renewed.body;
  EXPECT_EQ(TokenOf(renewed), TokenOf(got));
  EXPECT_EQ(IntOf(renewed, "ttl_ms"), 20000);
  EXPECT_GT(IntOf(renewed, "expires_in_ms"), 10000);
  const Reply unknown = a->Call("POST", "/v1/renew", R"({"lease_id": "999"})");
  EXPECT_EQ(unknown.status, 404u) << unknown.body;
}

// Each bad request and what it gets.
TEST_F(NodeApiTest, BadRequestsGetTheDocumentedStatusAndANamedError) {
  struct Case {
    const char* method;
    std::string target;
    std::string body;
    unsigned status;
    const char* code;
    const char* message;  // a part of the error message
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/acquire", R"({"resource": "a",)", 400, "INVALID_ARGUMENT", "malformed JSON"},
      {"POST", "/v1/acquire", R"(["a"])", 400, "INVALID_ARGUMENT", "must be a JSON object"},
      {"POST", "/v1/acquire", "", 400, "INVALID_ARGUMENT", "needs a JSON object body"},
      {"POST", "/v1/acquire", R"({"ttl_ms": 1000})", 400, "INVALID_ARGUMENT",
       "\"resource\" is missing"},
      {"POST", "/v1/acquire", R"({"resource": ""})", 400, "INVALID_ARGUMENT",
       "\"resource\" is empty"},
      {"POST", "/v1/acquire", absl::StrCat(R"({"resource": ")", std::string(300, 'r'), "\"}"), 400,
       "INVALID_ARGUMENT", "300 bytes, over 256"},
      {"POST", "/v1/acquire", R"({"resource": 7})", 400, "INVALID_ARGUMENT",
       "\"resource\" must be a string"},
      {"POST", "/v1/acquire", R"({"resource": "a", "ttl_ms": 50})", 400, "INVALID_ARGUMENT",
       "\"ttl_ms\" is 50, outside [100, 30000]"},
      {"POST", "/v1/acquire", R"({"resource": "a", "ttl_ms": 1.5})", 400, "INVALID_ARGUMENT",
       "\"ttl_ms\" must be an integer"},
      {"POST", "/v1/acquire", R"({"resource": "a", "try": "yes"})", 400, "INVALID_ARGUMENT",
       "\"try\" must be true or false"},
      {"POST", "/v1/acquire", R"({"resource": "a", "colour": 1})", 400, "INVALID_ARGUMENT",
       "unknown field \"colour\""},
      {"POST", "/v1/acquire", absl::StrCat(R"({"resource": ")", std::string(5000, 'x'), "\"}"), 413,
       "INVALID_ARGUMENT", "over 4096 bytes"},
      {"POST", "/v1/release", R"({"lease_id": "424242"})", 404, "NOT_FOUND",
       "holds no lease 424242"},
      {"POST", "/v1/release", R"({"lease_id": 7})", 400, "INVALID_ARGUMENT",
       "\"lease_id\" must be a string"},
      {"POST", "/v1/renew", R"({"lease_id": "1", "ttl_ms": 999999})", 400, "INVALID_ARGUMENT",
       "outside"},
      {"GET", "/v1/holder", "", 400, "INVALID_ARGUMENT", "needs resource=NAME"},
      {"GET", "/v1/holder?resource=%zz", "", 400, "INVALID_ARGUMENT", "bad %-escape"},
      {"GET", "/v1/nothing", "", 404, "NOT_FOUND", "no such path: /v1/nothing"},
      {"GET", "/v1/acquire", "", 405, "INVALID_ARGUMENT", "/v1/acquire takes POST only"},
      {"POST", "/v1/leases", "{}", 405, "INVALID_ARGUMENT", "/v1/leases takes GET only"},
  };
  for (const Case& c : cases) {
    // A fresh connection each: a 413 closes its connection.
    auto client = Client(0);
    const Reply r = client->Call(c.method, c.target, c.body);
    SCOPED_TRACE(absl::StrCat(c.method, " ", c.target, " ", c.body.substr(0, 60)));
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.ErrorCode(), c.code) << r.body;
    const std::string message =
        Member(r, "error").is_object() ? Member(r, "error").Find("message")->string() : "";
    EXPECT_NE(message.find(c.message), std::string::npos) << r.body;
  }
}

// Acquire + release round trips on one connection, uncontended: the figure the report gives.
TEST_F(NodeApiTest, AcquireReleaseRoundTripThroughTheSocket) {
  auto a = Client(0);
  std::vector<double> us;
  for (int i = 0; i < 200; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const Reply got = a->Call("POST", "/v1/acquire", Acquire("round-trip", 5000));
    ASSERT_EQ(got.status, 200u) << got.body;
    ASSERT_EQ(a->Call("POST", "/v1/release", Release(LeaseIdOf(got))).status, 200u);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(us.begin(), us.end());
  const double p50 = us[us.size() / 2], p99 = us[us.size() * 99 / 100];
  std::printf("acquire+release through the socket: p50 %.0f us, p99 %.0f us (n=%zu)\n", p50, p99,
              us.size());
  RecordProperty("p50_us", static_cast<int>(p50));
  RecordProperty("p99_us", static_cast<int>(p99));
  EXPECT_LT(p50, 1e6);
}

}  // namespace
}  // namespace lockmesh::testing
