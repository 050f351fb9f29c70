// lockmesh::Election: a lease on "lockmesh/election/<name>", renewed in the background, and a
// gossip tag through which the leader tells every member its name and term token.
#include "lockmesh/election.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "lib/runtime/blocking.h"
#include "lib/runtime/engine.h"
#include "lib/runtime/lease_state.h"
#include "lib/runtime/limits.h"

namespace lockmesh {

using runtime::kElectionNameBytesMax;

Election::Election(Node& node, std::string name) : node_(node), name_(std::move(name)) {}

Election::~Election() { Resign(); }

absl::StatusOr<Lease> Election::Campaign(AcquireOptions options) {
  if (name_.empty() || name_.size() > kElectionNameBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("election names are 1..", kElectionNameBytesMax, " bytes"));
  }
  {
    absl::MutexLock lock(&mu_);
    if (term_ && !term_->ended.load()) {
      return absl::FailedPreconditionError("this node is the leader already");
    }
  }
  runtime::Engine& engine = *node_.engine_;
  if (absl::Status st = runtime::NotOnIoThread(engine); !st.ok()) return st;
  options.auto_renew = true;
  absl::StatusOr<Lease> term = runtime::Wait<absl::StatusOr<Lease>>([&](auto done) {
    engine.Acquire(absl::StrCat("lockmesh/election/", name_), std::move(options), TagKey(),
                   std::move(done));
  });
  if (term.ok()) {
    absl::MutexLock lock(&mu_);
    term_ = term->state_;
  }
  return term;
}

std::optional<LeaderInfo> Election::Leader() const {
  {
    absl::MutexLock lock(&mu_);
    if (term_ && term_->Valid()) {
      return LeaderInfo{node_.name(), term_->token};
    }
  }
  std::optional<LeaderInfo> best;
  const std::string key = TagKey();
  absl::StatusOr<std::vector<MemberView>> members = node_.Members();
  if (!members.ok()) return std::nullopt;  // on the node's io thread: only its own term is known
  for (const MemberView& m : *members) {
    if (m.state != MemberView::State::kAlive || m.name == node_.name()) continue;
    auto tag = m.tags.find(key);
    if (tag == m.tags.end()) continue;
    uint64_t token = 0;
    const std::string& v = tag->second;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), token);
    if (ec != std::errc() || end != v.data() + v.size()) continue;  // not ours to trust
    if (!best || token > best->token) best = LeaderInfo{m.name, token};
  }
  return best;
}

void Election::Resign() {
  absl::MutexLock lock(&mu_);
  if (!term_) return;
  if (!term_->ended.exchange(true)) {
    if (std::shared_ptr<runtime::Engine> engine = term_->engine.lock()) {
      engine->Release(term_->request);
    }
  }
  term_.reset();
}

}  // namespace lockmesh
