// fuzz_seed_gen OUT_DIR: writes the seed corpus of the codec and datagram targets from real
// traffic, so the fuzzers start from inputs the code makes rather than from nothing.
//
//   OUT_DIR/codec/<kind>-<n>     one encoded envelope (wire::Encode)
//   OUT_DIR/datagram/batch-<n>   one batch plaintext (wire::BatchBuilder) of envelopes in the
//                                order one node sent them to one peer
//   OUT_DIR/datagram/sealed-<n>  the same batch sealed under fuzz::TestKeyring()
//
// Lease traffic is captured from three real lease cores (core::LeaseNode) on a virtual clock:
// a grant, a contender that waits, a renewal, a release with its notice, the contender's
// grant, and a try-acquire refused. Membership messages are built by hand with every field
// set (the simulator's gossip has no capture hook), one of each kind and a push-pull chunk.
// The codec and batch files are the same every run (fixed seeds, virtual time); sealed-<n>
// differ, because Seal draws the process's random nonce prefix.
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/support.h"
#include "lib/core/config.h"
#include "lib/core/lease_node.h"
#include "lib/core/messages.h"
#include "lib/core/random.h"
#include "lib/crypto/sealed_frame.h"
#include "lib/wire/batch.h"
#include "lib/wire/codec.h"
#include "sim/scenario.h"

namespace lockmesh::fuzz {
namespace {

constexpr int kNodes = 3;
constexpr int kPerKindMax = 4;  // keeps the corpus to a few dozen small files

void Write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  Check(static_cast<bool>(out), "cannot write a seed file");
}

// Three lease cores that deliver each other's messages in send order on a virtual clock.
class LeaseTraffic {
 public:
  LeaseTraffic() {
    core::LeaseConfig config = sim::SimTiming(2'000'000);
    for (int i = 0; i < kNodes; ++i) config.voters.push_back(core::NodeIdFromName(Name(i)));
    for (int i = 0; i < kNodes; ++i) {
      config.self = config.voters[i];
      configs_.push_back(config);  // a LeaseNode keeps a reference to its configuration
      rngs_.push_back(std::make_unique<core::Rng>(i + 1));
      nodes_.push_back(std::make_unique<core::LeaseNode>(
          configs_.back(), 1, core::StartMode::kBootstrap, Now(), *rngs_.back()));
      index_[config.self] = i;
    }
  }

  core::LeaseNode& node(int i) { return *nodes_[i]; }
  core::Now Now() const { return core::Now{now_us_, 1'700'000'000'000 + now_us_ / 1000}; }
  core::Effects& fx() { return fx_; }

  // Sends what the last call produced, then delivers until nothing is in flight.
  void Settle(int from) {
    Collect(from);
    while (!in_flight_.empty()) {
      const core::Envelope env = std::move(in_flight_.front());
      in_flight_.pop_front();
      now_us_ += 300;
      const int to = index_.at(env.to);
      nodes_[to]->OnMessage(env, Now(), fx_);
      Collect(to);
    }
  }

  void Advance(int64_t us) {
    now_us_ += us;
    for (int i = 0; i < kNodes; ++i) {
      nodes_[i]->OnTick(Now(), fx_);
      Settle(i);
    }
  }

  // Every envelope sent, by (sender, receiver), in send order.
  const std::map<std::pair<int, int>, std::vector<core::Envelope>>& sent() const { return sent_; }

 private:
  static std::string Name(int i) { return absl::StrCat("n", i + 1); }

  void Collect(int from) {
    for (core::Envelope& env : fx_.messages) {
      sent_[{from, index_.at(env.to)}].push_back(env);
      in_flight_.push_back(std::move(env));
    }
    fx_.Clear();
  }

  int64_t now_us_ = 1'000'000;
  std::deque<core::LeaseConfig> configs_;  // a deque: references to elements stay valid
  std::vector<std::unique_ptr<core::Rng>> rngs_;
  std::vector<std::unique_ptr<core::LeaseNode>> nodes_;
  std::map<core::NodeId, int> index_;
  std::deque<core::Envelope> in_flight_;
  std::map<std::pair<int, int>, std::vector<core::Envelope>> sent_;
  core::Effects fx_;
};

std::vector<core::Envelope> CaptureLeaseTraffic() {
  LeaseTraffic t;
  auto acquire = [&](int i, const char* resource, int64_t wait_us) {
    absl::StatusOr<uint64_t> request = t.node(i).Acquire(
        resource, core::AcquireOptions{.duration_us = 1'000'000, .wait_us = wait_us}, t.Now(),
        t.fx());
    Check(request.ok(), "the seed traffic's acquire was refused");
    t.Settle(i);
    return *request;
  };
  const uint64_t held = acquire(0, "orders/42", 5'000'000);
  const uint64_t waiting = acquire(1, "orders/42", 5'000'000);
  t.Advance(200'000);
  Check(t.node(0).Renew(held, 1'000'000, t.Now(), t.fx()).ok(), "renew");
  t.Settle(0);
  Check(t.node(0).Release(held, t.Now(), t.fx()).ok(), "release");
  t.Settle(0);
  t.Advance(100'000);
  acquire(2, "orders/42", 0);  // a try-acquire while node 1 holds it: refused
  t.Advance(100'000);
  // Node 1 was granted at node 0's release; its release may find nothing if it was not.
  (void)t.node(1).Release(waiting, t.Now(), t.fx());
  t.Settle(1);
  std::vector<core::Envelope> all;
  for (const auto& [pair, envs] : t.sent()) all.insert(all.end(), envs.begin(), envs.end());
  return all;
}

core::MemberUpdate Update(int i, core::MemberState state) {
  core::MemberUpdate u;
  u.state = state;
  u.node = core::NodeIdFromName(absl::StrCat("n", i));
  u.incarnation = 3 + i;
  u.from = core::NodeIdFromName("n1");
  u.info.name = absl::StrCat("n", i);
  u.info.address = absl::StrCat("10.0.0.", i, ":7946");
  u.info.voter = i <= 3;
  u.info.tags = {{"zone", "eu-1a"}, {"role", "api"}};
  return u;
}

std::vector<core::Envelope> GossipMessages() {
  const std::vector<core::MemberUpdate> updates = {
      Update(2, core::MemberState::kAlive), Update(3, core::MemberState::kSuspect),
      Update(4, core::MemberState::kDead), Update(5, core::MemberState::kLeft)};
  std::vector<core::MessageBody> bodies = {
      core::PingMsg{.seq = 7, .source_address = "10.0.0.1:7946", .updates = updates},
      core::PingReqMsg{.seq = 8,
                       .target = core::NodeIdFromName("n3"),
                       .target_address = "10.0.0.3:7946",
                       .source_address = "10.0.0.1:7946",
                       .nack = true,
                       .updates = {updates[1]}},
      core::AckMsg{.seq = 7, .updates = {updates[0]}},
      core::NackMsg{.seq = 8, .updates = {}},
      core::GossipMsg{.updates = updates},
      core::PushPullMsg{
          .join = true, .reply = false, .chunk_index = 0, .chunk_count = 2, .members = updates},
      core::PushPullMsg{.join = false,
                        .reply = true,
                        .chunk_index = 1,
                        .chunk_count = 2,
                        .members = {updates[0]}},
  };
  std::vector<core::Envelope> out;
  for (core::MessageBody& body : bodies) {
    out.push_back(core::Envelope{.from = core::NodeIdFromName("n1"),
                                 .from_incarnation = 3,
                                 .to = core::NodeIdFromName("n2"),
                                 .hlc = (uint64_t{1'700'000'000'000} << 16) | 5,
                                 .voter_set_hash = 0,
                                 .body = std::move(body)});
  }
  return out;
}

}  // namespace
}  // namespace lockmesh::fuzz

int main(int argc, char** argv) {
  using namespace lockmesh;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out(argv[1]);
  std::filesystem::create_directories(out / "codec");
  std::filesystem::create_directories(out / "datagram");

  std::vector<core::Envelope> envelopes = fuzz::CaptureLeaseTraffic();
  const std::vector<core::Envelope> gossip = fuzz::GossipMessages();
  envelopes.insert(envelopes.end(), gossip.begin(), gossip.end());

  std::map<std::size_t, int> per_kind;
  std::vector<std::string> encoded;
  for (const core::Envelope& env : envelopes) {
    absl::StatusOr<std::string> bytes = wire::Encode(env);
    fuzz::Check(bytes.ok(), "a captured envelope does not encode");
    encoded.push_back(*bytes);
    int& n = per_kind[env.body.index()];
    if (n >= fuzz::kPerKindMax) continue;
    fuzz::Write(out / "codec" / absl::StrCat(core::MessageKindName(env.body.index()), "-", n++),
                *bytes);
  }
  for (int kind = 0; kind < core::kMessageKindCount; ++kind) {
    if (per_kind[kind] == 0) {
      std::fprintf(stderr, "seed_gen: no %s captured\n", core::MessageKindName(kind).data());
    }
  }

  // Batches in send order, as a node fills datagrams; a few sizes, not every datagram.
  int batches = 0;
  wire::BatchBuilder batch;
  auto flush = [&] {
    const std::string plaintext = batch.Finish();
    absl::StatusOr<std::string> sealed =
        crypto::Seal(fuzz::TestKeyring(), fuzz::kClusterName, plaintext);
    fuzz::Check(sealed.ok(), "a batch does not seal");
    fuzz::Write(out / "datagram" / absl::StrCat("batch-", batches), plaintext);
    fuzz::Write(out / "datagram" / absl::StrCat("sealed-", batches), *sealed);
    ++batches;
  };
  std::size_t per_batch = 1;
  for (const std::string& bytes : encoded) {
    if (!batch.Fits(bytes.size()) || batch.count() == per_batch) {
      flush();
      per_batch = per_batch % 5 + 1;  // 1..5 envelopes a batch
    }
    batch.Add(bytes);
    if (batches >= 12) break;
  }
  if (!batch.empty()) flush();
  std::printf("seed_gen: %zu envelopes, %d batches\n", encoded.size(), batches);
  return 0;
}
