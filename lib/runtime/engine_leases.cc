// The engine's lease side: requests and their completions, release, multi-resource acquires,
// the circuit breaker. Renewal and loss of held leases: engine_renewal.cc.
#include <algorithm>
#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "lib/core/check.h"
#include "lib/runtime/engine.h"
#include "lib/runtime/limits.h"

namespace lockmesh::runtime {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

int64_t Us(std::chrono::milliseconds ms) { return ms.count() * 1000; }

}  // namespace

void Engine::Complete(Pending& pending, absl::StatusOr<Lease> result) {
  if (pending.cancel_registration != 0) {
    pending.options.cancel.Unregister(pending.cancel_registration);
    pending.cancel_registration = 0;
  }
  if (!pending.done) return;
  Defer([done = std::move(pending.done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void Engine::Acquire(std::string resource, AcquireOptions options, std::string publish_tag,
                     AcquireCallback done) {
  Post([this, resource = std::move(resource), options = std::move(options),
        publish_tag = std::move(publish_tag), done = std::move(done)]() mutable {
    const int64_t now_us = Now().mono_us;
    Pending p{.resource = std::move(resource),
              .options = std::move(options),
              .publish_tag = std::move(publish_tag),
              .done = std::move(done),
              .started_us = now_us};
    ++own_.acquires_started;
    if (p.options.wait.count() < 0 || Us(p.options.wait) > core::kWaitUsMax) {
      ++own_.acquires_failed;
      return Complete(p, absl::InvalidArgumentError("wait must be in [0, 1 day]"));
    }
    p.try_once = p.options.wait.count() == 0;
    p.wait_deadline_us = now_us + Us(p.options.wait);
    Enqueue(std::move(p));
  });
}

void Engine::Enqueue(Pending p) {
  if (stopping_) {
    ++own_.acquires_cancelled;
    return Complete(p, absl::CancelledError("the node is stopping"));
  }
  if (p.options.cancel.cancelled()) {
    ++own_.acquires_cancelled;
    return Complete(p, absl::CancelledError("cancelled before it started"));
  }
  // Registered before anything can hold the request back (the breaker), so that Cancel()
  // ends it wherever it waits; not at all if no copy of the signal is left outside the
  // request (none was given), which spares every plain acquire a lock and a map insert.
  p.ticket = next_ticket_++;
  if (!p.options.cancel.shared()) {
    // The last other copy may have cancelled and gone since the check above.
    if (p.options.cancel.cancelled()) {
      ++own_.acquires_cancelled;
      return Complete(p, absl::CancelledError("cancelled before it started"));
    }
    return StartRequest(std::move(p));
  }
  std::weak_ptr<Engine> weak = weak_from_this();
  p.cancel_registration = p.options.cancel.Register([weak, ticket = p.ticket] {
    if (std::shared_ptr<Engine> self = weak.lock()) {
      Engine* engine = self.get();
      engine->Post([engine, ticket] { engine->CancelRequest(ticket); });
    }
  });
  StartRequest(std::move(p));
}

void Engine::CancelRequest(uint64_t ticket) {
  for (auto it = deferred_.begin(); it != deferred_.end(); ++it) {
    if (it->ticket != ticket) continue;
    Pending p = std::move(*it);
    deferred_.erase(it);
    ++own_.acquires_cancelled;
    return Complete(p, absl::CancelledError("cancelled while the circuit breaker held it"));
  }
  for (const auto& [request, pending] : pending_) {
    // The core ends it with Cancelled; Failed() completes it.
    if (pending.ticket == ticket) return ReleaseNow(request, Now());
  }
}

void Engine::StartRequest(Pending p) {
  const core::Now now = Now();
  if (breaker_.open) {
    const bool cooled = now.mono_us >= breaker_.open_until_us;
    if (cooled && !breaker_.probing) {
      breaker_.probing = true;  // half-open: this request tests the cluster
      return Begin(std::move(p), now);
    }
    // Worth holding only if the wait outlasts the cooldown; held-back requests are open
    // requests, under the core's bound.
    if (p.wait_deadline_us > breaker_.open_until_us) {
      if (pending_.size() + deferred_.size() >= core::kRequestsMax) {
        ++own_.acquires_failed;
        return Complete(p, absl::ResourceExhaustedError(absl::StrCat(
                               "too many open lease requests (", core::kRequestsMax, ")")));
      }
      ++own_.breaker_deferrals;
      deferred_.push_back(std::move(p));
      return;
    }
    ++own_.breaker_rejections;
    ++own_.acquires_failed;
    return Complete(
        p, absl::UnavailableError(absl::StrCat("circuit breaker open: ", breaker_.failures,
                                               " requests in a row found no quorum; retry later")));
  }
  Begin(std::move(p), now);
}

void Engine::Begin(Pending p, core::Now now) {
  const int64_t wait_left_us = p.wait_deadline_us - now.mono_us;
  if (!p.try_once && wait_left_us <= 0) {
    // The wait ran out before a first attempt: held back by the breaker, or an AcquireAll
    // step that came too late.
    ++own_.acquires_failed;
    if (breaker_.open) {
      breaker_.probing = false;
      return Complete(p, absl::UnavailableError("the wait limit passed while the circuit "
                                                "breaker was open (no quorum)"));
    }
    ++own_.acquires_timed_out;
    return Complete(p, absl::DeadlineExceededError("the wait limit passed before the request "
                                                   "could try"));
  }
  core::Effects fx;
  absl::StatusOr<uint64_t> request =
      lease_->Acquire(p.resource,
                      core::AcquireOptions{.duration_us = Us(p.options.duration),
                                           .wait_us = p.try_once ? 0 : wait_left_us,
                                           .try_once = p.try_once},
                      now, fx);
  if (!request.ok()) {
    ++own_.acquires_failed;
    breaker_.probing = false;
    return Complete(p, request.status());
  }
  const uint64_t id = *request;
  pending_.emplace(id, std::move(p));
  Apply(fx);  // may complete the request at once (a single local voter)
}

void Engine::OnLeaseEvent(core::LeaseEvent event, core::Now now) {
  using Kind = core::LeaseEvent::Kind;
  switch (event.kind) {
    case Kind::kGranted:
      return Granted(event, now);
    case Kind::kFailed:
      return Failed(event, now);
    case Kind::kRenewed:
      return OnRenewed(event, now);
    case Kind::kRenewFailed:
      return OnRenewFailed(event, now);
    case Kind::kReleased:
      held_.erase(event.request);  // released through ReleaseNow, which did the accounting
      return;
    case Kind::kExpired: {
      auto it = held_.find(event.request);
      if (it == held_.end()) return;
      ReportLost(it->second, absl::DeadlineExceededError("the lease expired"), now);
      return;
    }
  }
}

void Engine::Granted(const core::LeaseEvent& event, core::Now now) {
  auto it = pending_.find(event.request);
  if (it == pending_.end()) {
    // Nobody waits for it (cannot happen: cancellation goes through the core). Give it back.
    core::Effects fx;
    (void)lease_->Release(event.request, now, fx);
    Apply(fx);
    return;
  }
  Pending p = std::move(it->second);
  pending_.erase(it);
  auto state = std::make_shared<LeaseState>(event.resource, event.token, event.request,
                                            event.deadline_us, weak_from_this());
  const int64_t duration_us = Us(p.options.duration);
  int64_t margin_us =
      p.options.loss_margin.count() > 0 ? Us(p.options.loss_margin) : duration_us / 10;
  margin_us = std::min(margin_us, duration_us / 2);
  Held h{.state = state,
         .duration_us = duration_us,
         .auto_renew = p.options.auto_renew,
         .hold_until_us =
             p.options.hold_max.count() > 0 ? p.started_us + Us(p.options.hold_max) : kNever,
         .loss_margin_us = margin_us,
         .loss_at_us = event.deadline_us - margin_us,
         .publish_tag = p.publish_tag,
         .on_lost = p.options.on_lost};
  PlanRenewal(h, now);
  held_.emplace(event.request, std::move(h));

  ++own_.acquires_succeeded;
  {
    absl::MutexLock lock(&metrics_mu_);
    metrics_.acquire_latency.Record(static_cast<uint64_t>(now.mono_us - p.started_us));
  }
  // Any answer from a majority shows the cluster can grant: close the breaker.
  breaker_.failures = 0;
  if (breaker_.open) {
    breaker_.open = false;
    breaker_.probing = false;
    breaker_.cooldown_us = Us(settings_.options.breaker_cooldown);
    Log(LogLevel::kInfo, "breaker.closed", "a request reached a quorum again");
    std::deque<Pending> deferred = std::move(deferred_);
    deferred_.clear();
    for (Pending& d : deferred) Begin(std::move(d), now);
  }
  if (!p.publish_tag.empty()) UpdateTag(p.publish_tag, absl::StrCat(event.token));
  Complete(p, Lease(std::move(state)));
}

void Engine::Failed(const core::LeaseEvent& event, core::Now now) {
  auto it = pending_.find(event.request);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  const absl::StatusCode code = event.status.code();
  if (code == absl::StatusCode::kDeadlineExceeded) {
    ++own_.acquires_timed_out;
  } else if (code == absl::StatusCode::kCancelled) {
    ++own_.acquires_cancelled;
  } else {
    ++own_.acquires_failed;
  }
  if (code == absl::StatusCode::kUnavailable) {
    ++breaker_.failures;
    const bool reopen = breaker_.probing;
    if (reopen || (!breaker_.open && breaker_.failures >= settings_.options.breaker_failures)) {
      if (reopen) {
        breaker_.cooldown_us =
            std::min(breaker_.cooldown_us * 2,
                     Us(settings_.options.breaker_cooldown) * kBreakerCooldownGrowthMax);
      }
      breaker_.open = true;
      breaker_.probing = false;
      breaker_.open_until_us = now.mono_us + breaker_.cooldown_us;
      ++own_.breaker_opens;
      Log(LogLevel::kWarning, "breaker.open",
          absl::StrCat(breaker_.failures, " requests in a row found no quorum (",
                       event.status.message(), "); holding new requests for ",
                       breaker_.cooldown_us / 1000, " ms"));
    }
  } else if (code != absl::StatusCode::kCancelled) {
    // Contended or timed out: voters answered, so the cluster is there.
    breaker_.failures = 0;
  }
  if (breaker_.probing && code != absl::StatusCode::kUnavailable) breaker_.probing = false;
  Complete(p, event.status);
}

void Engine::Release(uint64_t request) {
  Post([this, request] { ReleaseNow(request, Now()); });
}

void Engine::ReleaseNow(uint64_t request, core::Now now) {
  auto held = held_.find(request);
  if (held != held_.end()) {
    Held h = std::move(held->second);
    held_.erase(held);
    h.state->ended.store(true);
    FinishRenewals(h, absl::FailedPreconditionError("the lease was released"));
    ++own_.releases;
    if (!h.publish_tag.empty()) UpdateTag(h.publish_tag, "");
  } else if (!pending_.contains(request)) {
    return;  // ended already
  }
  core::Effects fx;
  (void)lease_->Release(request, now, fx);  // NotFound if the core ended it meanwhile
  Apply(fx);
}

void Engine::BreakerTimers(core::Now now) {
  // Deferred requests whose wait ran out while the breaker held them.
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    if (now.mono_us >= it->wait_deadline_us) {
      Pending p = std::move(*it);
      it = deferred_.erase(it);
      ++own_.acquires_failed;
      Complete(p, absl::UnavailableError(
                      "wait limit passed while the circuit breaker was open (no quorum)"));
    } else {
      ++it;
    }
  }
  if (breaker_.open && !breaker_.probing && now.mono_us >= breaker_.open_until_us &&
      !deferred_.empty()) {
    Pending p = std::move(deferred_.front());
    deferred_.pop_front();
    breaker_.probing = true;
    Begin(std::move(p), now);
  }
}

void Engine::AcquireAll(std::vector<std::string> resources, AcquireOptions options,
                        AcquireAllCallback done) {
  std::sort(resources.begin(), resources.end());
  resources.erase(std::unique(resources.begin(), resources.end()), resources.end());
  Post([this, resources = std::move(resources), options = std::move(options),
        done = std::move(done)]() mutable {
    absl::Status invalid;
    if (resources.empty() || resources.size() > kAcquireAllResourcesMax) {
      invalid = absl::InvalidArgumentError(
          absl::StrCat("AcquireAll takes 1..", kAcquireAllResourcesMax, " resources"));
    } else if (options.wait.count() < 0 || Us(options.wait) > core::kWaitUsMax) {
      invalid = absl::InvalidArgumentError("wait must be in [0, 1 day]");
    }
    if (!invalid.ok()) {
      return Defer([done = std::move(done), invalid]() mutable { done(invalid); });
    }
    auto multi = std::make_shared<Multi>();
    multi->resources = std::move(resources);
    multi->options = std::move(options);
    multi->done = std::move(done);
    multi->started_us = Now().mono_us;
    AcquireNext(std::move(multi));
  });
}

void Engine::AcquireNext(std::shared_ptr<Multi> multi) {
  const std::size_t i = multi->leases.size();
  if (i == multi->resources.size()) {
    return Defer([multi = std::move(multi)]() mutable {
      AcquireAllCallback done = std::move(multi->done);
      done(std::move(multi->leases));
    });
  }
  // One at a time, in sorted order, each with what is left of the one wait limit (kept in
  // µs: a remainder rounded to 0 ms must not become a try-acquire).
  Pending p{.resource = multi->resources[i],
            .options = multi->options,
            .started_us = Now().mono_us,
            .wait_deadline_us = multi->started_us + Us(multi->options.wait),
            .try_once = multi->options.wait.count() == 0};
  // Runs after the engine's state is let go (Complete defers it).
  p.done = [this, multi](absl::StatusOr<Lease> lease) mutable {
    if (!lease.ok()) {
      multi->leases.clear();  // releases those taken
      AcquireAllCallback done = std::move(multi->done);
      return done(lease.status());
    }
    multi->leases.push_back(*std::move(lease));
    Post([this, multi = std::move(multi)]() mutable { AcquireNext(std::move(multi)); });
  };
  ++own_.acquires_started;
  Enqueue(std::move(p));
}

}  // namespace lockmesh::runtime
