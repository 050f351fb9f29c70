// The "datagram.dropped" log record: per reason the first drop, then every
// kDropLogEveryDatagrams-th, with the count so far; first as a rule, then on a real node fed bad
// datagrams through a real socket.
#include "lib/runtime/drop_log.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "lib/runtime/address.h"
#include "tests/runtime/test_cluster.h"

namespace lockmesh::runtime {
namespace {

TEST(DropLogDueTest, FirstThenEveryNth) {
  EXPECT_TRUE(DropLogDue(0, 1, 1000));   // the first
  EXPECT_FALSE(DropLogDue(1, 2, 1000));  // then quiet
  EXPECT_FALSE(DropLogDue(998, 999, 1000));
  EXPECT_TRUE(DropLogDue(999, 1000, 1000));  // the 1000th
  EXPECT_FALSE(DropLogDue(1000, 1001, 1000));
  EXPECT_TRUE(DropLogDue(1999, 2000, 1000));
  EXPECT_FALSE(DropLogDue(5, 5, 1000));  // nothing dropped
}

TEST(DropLogDueTest, SeveralDropsAtOnceAreLoggedOnce) {
  // A batch with several malformed messages bumps its counter by more than one.
  EXPECT_TRUE(DropLogDue(0, 3, 1000));
  EXPECT_TRUE(DropLogDue(998, 1002, 1000));
  EXPECT_FALSE(DropLogDue(1001, 1999, 1000));
}

TEST(DropLogDueTest, EveryReasonIsReportedUnderItsMetricsName) {
  DatagramCounters before, after;
  after.dropped_oversized = 1;
  after.dropped_truncated = 1;
  after.dropped_unknown_version = 1;
  after.dropped_unknown_key = 1;
  after.dropped_unauthenticated = 1;
  after.dropped_replayed = 1;
  after.dropped_malformed = 1;
  std::vector<std::string> reasons;
  for (const DropToLog& d : DropsToLog(before, after)) {
    reasons.push_back(d.reason);
    EXPECT_EQ(d.count, 1u);
    EXPECT_NE(std::string(d.what), "");
  }
  EXPECT_EQ(reasons,
            (std::vector<std::string>{"oversized", "truncated", "unknown_version", "unknown_key",
                                      "unauthenticated", "replayed", "malformed"}));
  // Counters that did not move give nothing, one that did gives its own reason only.
  EXPECT_TRUE(DropsToLog(after, after).empty());
  DatagramCounters more = after;
  more.dropped_replayed = kDropLogEveryDatagrams;
  const std::vector<DropToLog> due = DropsToLog(after, more);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(std::string(due[0].reason), "replayed");
  EXPECT_EQ(due[0].count, kDropLogEveryDatagrams);
}

// A node on loopback fed bad datagrams from a plain UDP socket.
class DropLogNodeTest : public ::testing::Test {
 protected:
  DropLogNodeTest()
      : cluster_(1, 1, [this](int, NodeOptions& o) {
          o.log = [this](const LogRecord& r) {
            if (r.event != "datagram.dropped") return;
            absl::MutexLock lock(&mu_);
            records_.push_back(r.message);
          };
        }) {
    node_endpoint_ = *ParseEndpoint(cluster_.node(0).address());
    socket_.open(node_endpoint_.protocol());
  }
  ~DropLogNodeTest() override { socket_.close(); }

  void Send(const std::string& bytes) {
    socket_.send_to(boost::asio::buffer(bytes), node_endpoint_);
  }
  std::vector<std::string> Records() {
    absl::MutexLock lock(&mu_);
    return records_;
  }
  // Waits until the node has counted `n` truncated datagrams. Its log record, if any, was
  // written before the count was published.
  bool WaitTruncated(uint64_t n) {
    return cluster_.events().WaitFor(
        [&] { return cluster_.node(0).GetMetrics().dropped_truncated >= n; });
  }

  absl::Mutex mu_;
  std::vector<std::string> records_ ABSL_GUARDED_BY(mu_);
  testing::TestCluster cluster_;
  boost::asio::io_context io_;
  udp::socket socket_{io_};
  udp::endpoint node_endpoint_;
};

TEST_F(DropLogNodeTest, TheFirstOfEachReasonIsLoggedThenEveryNth) {
  const std::string truncated(10, '\x01');         // shorter than any sealed frame
  const std::string unknown_version(200, '\x07');  // frame version 7
  for (int i = 0; i < 3; ++i) Send(truncated);
  Send(unknown_version);
  ASSERT_TRUE(WaitTruncated(3));
  ASSERT_TRUE(cluster_.events().WaitFor([&] { return Records().size() >= 2; }));
  std::vector<std::string> records = Records();
  ASSERT_EQ(records.size(), 2u) << "three truncated datagrams, one record";
  EXPECT_TRUE(absl::StrContains(records[0], ": truncated (")) << records[0];
  EXPECT_TRUE(absl::StrContains(records[0], "; 1 so far")) << records[0];
  EXPECT_TRUE(absl::StrContains(records[0], "from 127.0.0.1:")) << records[0];
  EXPECT_TRUE(absl::StrContains(records[1], ": unknown_version (")) << records[1];
  EXPECT_TRUE(absl::StrContains(records[1], "; 1 so far")) << records[1];

  // Up to the kDropLogEveryDatagrams-th truncated datagram, in rounds the socket buffers can
  // hold (a datagram lost on the way would leave the count short of the next record).
  uint64_t sent = 3;
  while (sent < kDropLogEveryDatagrams) {
    const uint64_t round_end = std::min<uint64_t>(sent + 100, kDropLogEveryDatagrams);
    for (; sent < round_end; ++sent) Send(truncated);
    ASSERT_TRUE(WaitTruncated(sent)) << sent;
  }
  records = Records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(absl::StrContains(records[2], ": truncated (")) << records[2];
  EXPECT_TRUE(absl::StrContains(records[2], absl::StrCat("; ", kDropLogEveryDatagrams, " so far")))
      << records[2];
  EXPECT_EQ(cluster_.node(0).GetMetrics().dropped_truncated, kDropLogEveryDatagrams);
}

}  // namespace
}  // namespace lockmesh::runtime
