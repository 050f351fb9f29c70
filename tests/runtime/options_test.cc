// What bad options and bad datagrams get from a node.
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/udp.hpp>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/crypto/key.h"
#include "lib/crypto/keyring.h"
#include "lib/crypto/sealed_frame.h"
#include "lib/runtime/address.h"
#include "tests/runtime/test_cluster.h"

namespace lockmesh::testing {
namespace {

using ::testing::HasSubstr;

NodeOptions Good() {
  NodeOptions o;
  o.name = "a";
  o.bind_address = "127.0.0.1:0";
  o.voters = {{"a", ""}, {"b", "127.0.0.1:1"}, {"c", "127.0.0.1:2"}};
  o.cluster_name = "test";
  o.keys = {NewKeyText()};
  o.timing = Timing::kLocal;
  o.bootstrap = true;
  return o;
}

void ExpectRefused(const NodeOptions& o, std::string_view why) {
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Start(o);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(node.status().message()), HasSubstr(std::string(why)));
}

TEST(OptionsTest, GoodOptionsStart) {
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Start(Good());
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_THAT((*node)->address(), HasSubstr("127.0.0.1:"));
}

TEST(OptionsTest, BadOptionsAreRefusedWithTheReason) {
  NodeOptions o = Good();
  o.name = "";
  ExpectRefused(o, "name");
  o = Good();
  o.keys.clear();
  ExpectRefused(o, "key");
  o = Good();
  o.keys = {"c2VjcmV0"};
  ExpectRefused(o, "keys[0]");
  o = Good();
  o.bind_address = "127.0.0.1";
  ExpectRefused(o, "bind_address");
  o = Good();
  o.bind_address = "0.0.0.0:0";
  ExpectRefused(o, "advertise_address");
  o = Good();
  o.seeds = {"10.0.0.1:99999"};
  ExpectRefused(o, "seeds");
  o = Good();
  o.voters.clear();
  ExpectRefused(o, "voters");
  o = Good();
  o.voters.push_back({"b", "127.0.0.1:3"});
  ExpectRefused(o, "listed twice");
  o = Good();
  o.bind_address = "127.0.0.1:7990";
  o.voters[0].address = "127.0.0.1:7991";
  ExpectRefused(o, "listed at");
  o = Good();
  o.cluster_name = "";
  ExpectRefused(o, "cluster_name");
  // Unsafe timing: a quarantine shorter than the longest lease could outlive.
  o = Good();
  o.lease_duration_max = std::chrono::seconds(10);
  o.quarantine = std::chrono::seconds(5);
  ExpectRefused(o, "unsafe");
  // Durations whose microseconds overflow int64 (lockmesh-node --lease_max_ms reads any int64).
  o = Good();
  o.lease_duration_max = std::chrono::milliseconds(std::numeric_limits<int64_t>::max());
  ExpectRefused(o, "lease_duration_max must be in");
  o = Good();
  o.quarantine = std::chrono::milliseconds(std::numeric_limits<int64_t>::max() / 1000 + 1);
  ExpectRefused(o, "quarantine must be in");
  o = Good();
  o.quarantine = std::chrono::milliseconds(-1);
  ExpectRefused(o, "quarantine must be in");
  o = Good();
  o.clock_error_ppm = -1;
  ExpectRefused(o, "clock_error_ppm");
  o = Good();
  o.tags["k"] = std::string(1000, 'v');
  ExpectRefused(o, "tags");
}

TEST(OptionsTest, ABusyPortIsUnavailable) {
  absl::StatusOr<std::unique_ptr<Node>> first = Node::Start(Good());
  ASSERT_TRUE(first.ok());
  NodeOptions o = Good();
  o.bind_address = (*first)->address();
  o.voters[0].address = "";
  absl::StatusOr<std::unique_ptr<Node>> second = Node::Start(o);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

// Datagrams from outside the cluster, sent at a live node: each counted and dropped, and
// the node goes on granting.
TEST(BadInputTest, ALiveNodeCountsAndDropsBadDatagramsAndStillServes) {
  TestCluster c(3, 3);
  c.WaitConverged();
  boost::asio::io_context io;
  boost::asio::ip::udp::socket s(
      io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const auto target = *runtime::ParseEndpoint(c.node(0).address());
  auto send = [&](const std::string& bytes) { s.send_to(boost::asio::buffer(bytes), target); };

  auto wrong = *crypto::Keyring::Create({crypto::GenerateKey()});
  auto right = *crypto::Keyring::Create({*crypto::ParseKey(c.key())});
  send(*crypto::Seal(*wrong, "test", "hello"));           // wrong key
  send(*crypto::Seal(*right, "other-cluster", "hello"));  // wrong cluster name
  send(std::string("\x01") + std::string(9, 'x'));        // truncated (frame version 1)
  send(std::string(10, 'x'));                             // unknown frame version
  send(std::string(500, '\x01'));                         // garbage, looks like frame v1
  send(std::string(2000, '\x01'));                        // oversized
  const std::string sealed_garbage = *crypto::Seal(*right, "test", "not a batch");
  send(sealed_garbage);  // opens, but malformed
  send(sealed_garbage);  // replayed
  ASSERT_TRUE(c.events().WaitFor([&] {
    const Metrics m = c.node(0).GetMetrics();
    return m.dropped_unknown_key >= 1 && m.dropped_unauthenticated >= 1 &&
           m.dropped_truncated >= 1 && m.dropped_oversized >= 1 && m.dropped_malformed >= 1 &&
           m.dropped_replayed >= 1 && m.dropped_unknown_version >= 1;
  }));
  absl::StatusOr<Lease> lease = c.node(1).Acquire("after", {.duration = std::chrono::seconds(1)});
  EXPECT_TRUE(lease.ok()) << lease.status();
}

}  // namespace
}  // namespace lockmesh::testing

namespace lockmesh::testing {
namespace {

// A node configured with another voter set is refused loudly: its lease messages are
// counted and dropped, an error is logged, and it gets no lease.
TEST(BadInputTest, ANodeWithAnotherVoterSetIsRefusedLoudly) {
  TestCluster c(3, 3);
  c.WaitConverged();
  NodeOptions o = c.Options(0);
  o.name = "stranger";
  o.bind_address = "127.0.0.1:0";
  o.voters = {{"n0", c.node(0).address()}, {"n1", c.node(1).address()}, {"stranger", ""}};
  o.seeds = {c.node(0).address()};
  o.bootstrap = true;
  o.log = c.events().Hook();
  absl::StatusOr<std::unique_ptr<Node>> stranger = Node::Start(o);
  ASSERT_TRUE(stranger.ok()) << stranger.status();
  // Only its own vote counts: n0 and n1 drop its messages, so it gets no majority.
  absl::StatusOr<Lease> lease = (*stranger)->Acquire(
      "r", {.duration = std::chrono::seconds(1), .wait = std::chrono::milliseconds(300)});
  EXPECT_FALSE(lease.ok());
  ASSERT_TRUE(c.events().WaitFor([&] {
    return c.node(0).GetMetrics().dropped_voter_set_mismatch >= 1 &&
           c.events().Count("lease.voter_set_mismatch") >= 1;
  }));
}

}  // namespace
}  // namespace lockmesh::testing
