// The engine's held leases: renewal in the background and on request, the hold cap, and the
// loss report before the deadline.
#include <algorithm>
#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "lib/runtime/engine.h"

namespace lockmesh::runtime {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

}  // namespace

void Engine::Renew(uint64_t request, int64_t duration_us,
                   absl::AnyInvocable<void(absl::Status)> done) {
  Post([this, request, duration_us, done = std::move(done)]() mutable {
    auto it = held_.find(request);
    absl::Status refused;
    if (it == held_.end() || stopping_) {
      refused = absl::FailedPreconditionError("the lease is not held");
    } else if (duration_us != 0 && (duration_us < settings_.lease.lease_duration_us_min ||
                                    duration_us > settings_.lease.lease_duration_us_max)) {
      refused = absl::InvalidArgumentError(
          absl::StrCat("renewal duration ", duration_us / 1000, " ms is outside [",
                       settings_.lease.lease_duration_us_min / 1000, ", ",
                       settings_.lease.lease_duration_us_max / 1000, "] ms"));
    }
    if (!refused.ok()) {
      return Defer([done = std::move(done), refused]() mutable { done(refused); });
    }
    Held& h = it->second;
    if (duration_us != 0) h.duration_us = duration_us;
    h.renew_waiters.push_back(std::move(done));
    // A renewal already on its way answers this caller too; it carries the old duration,
    // which the next one (auto_renew) replaces.
    if (!h.renewing) StartRenewal(request, h, Now());
  });
}

void Engine::FinishRenewals(Held& h, const absl::Status& status) {
  std::vector<absl::AnyInvocable<void(absl::Status)>> waiters = std::move(h.renew_waiters);
  h.renew_waiters.clear();
  for (auto& done : waiters) {
    Defer([done = std::move(done), status]() mutable { done(status); });
  }
}

void Engine::OnRenewed(const core::LeaseEvent& event, core::Now now) {
  auto it = held_.find(event.request);
  if (it == held_.end()) return;
  Held& h = it->second;
  h.renewing = false;
  h.state->deadline_us.store(event.deadline_us);
  h.loss_at_us = event.deadline_us - h.loss_margin_us;
  PlanRenewal(h, now);
  FinishRenewals(h, absl::OkStatus());
}

void Engine::OnRenewFailed(const core::LeaseEvent& event, core::Now now) {
  auto it = held_.find(event.request);
  if (it == held_.end()) return;
  Held& h = it->second;
  h.renewing = false;
  // Background renewal tries again; a renewal asked for by hand only reports.
  h.renew_at_us = h.auto_renew && !h.capped ? now.mono_us + settings_.lease.retransmit_us : kNever;
  Log(LogLevel::kDebug, "lease.renew_failed",
      absl::StrCat("renewal of '", event.resource, "' failed",
                   h.renew_at_us == kNever ? "" : "; retrying"));
  FinishRenewals(h, absl::UnavailableError("the renewal did not reach a majority of voters; "
                                           "the lease holds until its deadline"));
}

void Engine::PlanRenewal(Held& h, core::Now now) {
  const int64_t deadline = h.state->deadline_us.load();
  h.loss_at_us = deadline - h.loss_margin_us;
  if (!h.auto_renew || h.capped) {
    h.renew_at_us = kNever;
    return;
  }
  h.renew_at_us = now.mono_us + std::max<int64_t>(0, (h.loss_at_us - now.mono_us) / 2);
}

void Engine::ReportLost(Held& h, absl::Status why, core::Now now) {
  const uint64_t request = h.state->request;
  h.state->lost.store(true);
  h.state->ended.store(true);
  FinishRenewals(
      h, absl::FailedPreconditionError(absl::StrCat("the lease was lost: ", why.message())));
  const bool renewal_failed = why.code() == absl::StatusCode::kUnavailable;
  if (renewal_failed) {
    ++own_.leases_lost;
    Log(LogLevel::kWarning, "lease.lost",
        absl::StrCat("lease on '", h.state->resource, "' (token ", h.state->token,
                     ") lost: ", why.message()));
  } else {
    ++own_.expiries;
  }
  std::function<void(const absl::Status&)> on_lost = std::move(h.on_lost);
  const std::string tag = h.publish_tag;
  held_.erase(request);  // `h` is gone from here on
  if (!tag.empty()) UpdateTag(tag, "");
  // Free it at the voters at once: the holder has stopped trusting it.
  core::Effects fx;
  (void)lease_->Release(request, now, fx);
  Apply(fx);
  if (on_lost) Defer([on_lost = std::move(on_lost), why] { on_lost(why); });
}

void Engine::LeaseTimers(core::Now now) {
  std::vector<uint64_t> due;
  for (const auto& [request, h] : held_) {
    if (now.mono_us >= h.loss_at_us || (!h.renewing && now.mono_us >= h.renew_at_us)) {
      due.push_back(request);
    }
  }
  for (uint64_t request : due) {
    auto it = held_.find(request);
    if (it == held_.end()) continue;
    Held& h = it->second;
    if (now.mono_us >= h.loss_at_us) {
      absl::Status why =
          !h.auto_renew ? absl::DeadlineExceededError("the lease ends; renewal is off")
          : h.capped    ? absl::DeadlineExceededError("the hold cap (hold_max) is reached")
                     : absl::UnavailableError("renewal did not reach a majority of voters in time");
      ReportLost(h, std::move(why), now);
      continue;
    }
    StartRenewal(request, h, now);
  }
}

void Engine::StartRenewal(uint64_t request, Held& h, core::Now now) {
  int64_t duration_us = h.duration_us;
  if (h.hold_until_us != kNever && h.hold_until_us - now.mono_us <= duration_us) {
    // The last renewal the cap allows (or none, if too little is left).
    duration_us = h.hold_until_us - now.mono_us;
    h.capped = true;
    if (duration_us < settings_.lease.lease_duration_us_min) {
      h.renew_at_us = kNever;
      FinishRenewals(h, absl::FailedPreconditionError("the hold cap (hold_max) allows no renewal"));
      return;
    }
  }
  core::Effects fx;
  absl::Status st = lease_->Renew(request, duration_us, now, fx);
  if (!st.ok()) {
    h.renew_at_us = kNever;
    Log(LogLevel::kWarning, "lease.renew_refused", std::string(st.message()));
    FinishRenewals(h, st);
    return;
  }
  h.renewing = true;
  Apply(fx);
}

int64_t Engine::NextLeaseWakeUs() const {
  int64_t wake = kNever;
  for (const auto& [request, h] : held_) {
    wake = std::min(wake, h.loss_at_us);
    if (!h.renewing) wake = std::min(wake, h.renew_at_us);
  }
  for (const Pending& p : deferred_) wake = std::min(wake, p.wait_deadline_us);
  if (breaker_.open && !deferred_.empty()) wake = std::min(wake, breaker_.open_until_us);
  return wake;
}

}  // namespace lockmesh::runtime
