// lockmesh::Lease and lockmesh::CancelSignal.
#include "lockmesh/lease.h"

#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/synchronization/mutex.h"
#include "lib/runtime/blocking.h"
#include "lib/runtime/engine.h"
#include "lib/runtime/lease_state.h"

namespace lockmesh {

struct CancelSignal::Shared {
  absl::Mutex mu;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  uint64_t next_id ABSL_GUARDED_BY(mu) = 1;
  absl::btree_map<uint64_t, std::function<void()>> callbacks ABSL_GUARDED_BY(mu);
};

CancelSignal::CancelSignal() : shared_(std::make_shared<Shared>()) {}

void CancelSignal::Cancel() const {
  absl::btree_map<uint64_t, std::function<void()>> callbacks;
  {
    absl::MutexLock lock(&shared_->mu);
    if (shared_->cancelled) return;
    shared_->cancelled = true;
    callbacks = std::move(shared_->callbacks);
    shared_->callbacks.clear();
  }
  for (auto& [id, fn] : callbacks) fn();  // outside the lock: fn may post, or re-enter
}

bool CancelSignal::cancelled() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->cancelled;
}

uint64_t CancelSignal::Register(std::function<void()> fn) const {
  {
    absl::MutexLock lock(&shared_->mu);
    if (!shared_->cancelled) {
      const uint64_t id = shared_->next_id++;
      shared_->callbacks.emplace(id, std::move(fn));
      return id;
    }
  }
  fn();
  return 0;
}

void CancelSignal::Unregister(uint64_t id) const {
  absl::MutexLock lock(&shared_->mu);
  shared_->callbacks.erase(id);
}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (valid()) (void)Release();
    state_ = std::move(other.state_);
  }
  return *this;
}

Lease::~Lease() {
  if (state_ && !state_->ended.load()) (void)Release();
}

const std::string& Lease::resource() const {
  static const std::string* const kEmpty = new std::string();
  return state_ ? state_->resource : *kEmpty;
}

uint64_t Lease::token() const { return state_ ? state_->token : 0; }

std::chrono::steady_clock::time_point Lease::deadline() const {
  return std::chrono::steady_clock::time_point(
      std::chrono::microseconds(state_ ? state_->deadline_us.load() : 0));
}

bool Lease::lost() const { return state_ && state_->lost.load(); }

bool Lease::valid() const { return state_ && state_->Valid(); }

void Lease::RenewAsync(std::chrono::milliseconds duration,
                       absl::AnyInvocable<void(absl::Status)> done) {
  std::shared_ptr<runtime::Engine> engine = state_ ? state_->engine.lock() : nullptr;
  if (!engine || state_->ended.load()) {
    // Not on the caller's stack: callbacks never run inside the call that started them.
    if (engine) {
      boost::asio::post(engine->executor(), [done = std::move(done)]() mutable {
        done(absl::FailedPreconditionError("the lease is not held"));
      });
    } else {
      done(absl::FailedPreconditionError("the lease is not held"));
    }
    return;
  }
  engine->Renew(state_->request, duration.count() * 1000, std::move(done));
}

absl::Status Lease::Renew(std::chrono::milliseconds duration) {
  std::shared_ptr<runtime::Engine> engine = state_ ? state_->engine.lock() : nullptr;
  if (!engine) return absl::FailedPreconditionError("the lease is not held");
  if (absl::Status st = runtime::NotOnIoThread(*engine); !st.ok()) return st;
  return runtime::Wait<absl::Status>([&](auto done) { RenewAsync(duration, std::move(done)); });
}

absl::Status Lease::Release() {
  if (!state_) return absl::FailedPreconditionError("empty lease");
  if (state_->ended.exchange(true)) {
    return absl::FailedPreconditionError(state_->lost.load() ? "the lease was lost"
                                                             : "the lease was released");
  }
  if (std::shared_ptr<runtime::Engine> engine = state_->engine.lock()) {
    engine->Release(state_->request);
  }
  return absl::OkStatus();
}

}  // namespace lockmesh
