// The simulated application: clients that take leases and update a fenced
// store under them, read-modify-write, the way a real service would.
#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/core/check.h"
#include "sim/fairness.h"
#include "sim/simulation.h"
#include "sim/simulation_internal.h"
#include "sim/timeline.h"

namespace lockmesh::sim {

void Simulation::ScheduleClient(Client& client, int64_t delay_us) {
  Push(Event{.at = now_ + std::max<int64_t>(delay_us, 0),
             .gen = client.gen,
             .index = client.id,
             .kind = EventKind::kClient});
}

void Simulation::StartClients(Node& node) {
  for (int c : node.clients) {
    Client& client = *clients_[c];
    client.state = Client::State::kIdle;
    ScheduleClient(client, rng_.Between(0, scenario_.think_us));
  }
}

void Simulation::ClientStep(Client& client) {
  Node& node = *nodes_[client.node];
  const core::Now now = node.Now(now_);
  switch (client.state) {
    case Client::State::kIdle: {
      client.resource = rng_.Chance(scenario_.contended)
                            ? absl::StrCat("res-", rng_.Uniform(scenario_.resources))
                            : absl::StrCat("own-", client.id);
      core::Effects fx;
      absl::StatusOr<uint64_t> id = node.core->Acquire(client.resource,
                                                       {.duration_us = scenario_.lease_us,
                                                        .wait_us = scenario_.wait_us,
                                                        .try_once = scenario_.wait_us == 0},
                                                       now, fx);
      if (!id.ok()) {
        Say(node.Name(), " c", client.id, " cannot ask: ", id.status().ToString());
        ScheduleClient(client, scenario_.think_us);
        return;
      }
      ++stats_.acquires;
      client.state = Client::State::kWaiting;
      client.request = *id;
      node.client_of_request[*id] = client.id;
      checker_->OnWaitStart(client.resource, node.index, now_);
      if (timeline_ != nullptr) {
        timeline_->Asked(now_, node.index, client.id, *id, client.resource);
      }
      return AfterCore(node, fx);
    }
    case Client::State::kWaiting:
      return;  // the lease event moves us on
    case Client::State::kHolding:
      break;
  }
  // Holding: one fenced read-modify-write per step, renewing as the lease ages.
  if (!node.core->IsHolding(client.request, now)) return;  // the expiry event follows
  core::Effects fx;
  if (now_ >= client.hold_end) {
    LM_CHECK(node.core->Release(client.request, now, fx).ok());
    return AfterCore(node, fx);
  }
  const std::vector<core::Holding> holdings = node.core->Holdings(now);
  for (const core::Holding& h : holdings) {
    const int64_t trust_us = node.config.HolderDurationUs(scenario_.lease_us);
    if (h.request == client.request && scenario_.renew &&
        h.deadline_us - now.mono_us < trust_us / 2) {
      (void)node.core->Renew(client.request, 0, now, fx);
    }
  }
  AfterCore(node, fx);
  const int64_t version = store_.Read(client.resource, client.token);
  if (version < 0) {
    Say(node.Name(), " c", client.id, " read refused by the fenced store: token ",
        FormatToken(client.token), " is stale; releasing");
    if (timeline_ != nullptr) {
      timeline_->StoreOperation(now_, node.index, client.id, client.resource, client.token,
                                store_.registers().at(client.resource).highest,
                                StoreOutcome::kReadRefused);
    }
    core::Effects rel;
    (void)node.core->Release(client.request, now, rel);
    return AfterCore(node, rel);
  }
  const int32_t slot = writes_->Put(PendingWrite{client.id, node.incarnation, client.token,
                                                 static_cast<uint64_t>(version), client.resource});
  Push(Event{.at = now_ + scenario_.op_us,
             .node = node.index,
             .index = slot,
             .kind = EventKind::kClientWrite});
  if (client.pause_after_read_us > 0) {
    Pause(node.index, client.pause_after_read_us);
    client.pause_after_read_us = 0;
  }
  ScheduleClient(client, scenario_.op_us * 2);
}

void Simulation::ClientWrite(Event& event) {
  Node& node = *nodes_[event.node];
  // A crashed process writes nothing; a paused one writes when it wakes, with
  // whatever token it had: that is the stale writer fencing exists for.
  if (node.up && node.Paused(now_)) {
    Deferred(node, event);
    return;
  }
  const PendingWrite w = std::move((*writes_)[event.index]);
  writes_->Free(event.index);
  if (!node.up || node.incarnation != w.incarnation) return;
  bool lost = false;
  const bool written = store_.Write(w.resource, w.token, w.version, &lost);
  if (timeline_ != nullptr) {
    timeline_->StoreOperation(
        now_, node.index, w.client, w.resource, w.token, store_.registers().at(w.resource).highest,
        !written ? StoreOutcome::kRefused
                 : (lost ? StoreOutcome::kLostUpdate : StoreOutcome::kWritten));
  }
  if (written) {
    ++stats_.writes;
    if (lost) checker_->OnLostUpdate(now_, w.resource, w.token);
    return;
  }
  ++stats_.stale_refused;
  Say("fenced store refuses a stale write to '", w.resource, "' from ", node.Name(), " c", w.client,
      ": token ", FormatToken(w.token), " < highest ",
      FormatToken(store_.registers().at(w.resource).highest));
}

void Simulation::OnLeaseEvent(Node& node, const core::LeaseEvent& event) {
  using Kind = core::LeaseEvent::Kind;
  auto it = node.client_of_request.find(event.request);
  if (it == node.client_of_request.end()) return;
  Client& client = *clients_[it->second];
  Hash(static_cast<uint64_t>(event.kind) << 56 ^ event.token);
  const core::Now now = node.Now(now_);
  if (timeline_ != nullptr) {
    const bool deadline = event.kind == Kind::kGranted || event.kind == Kind::kRenewed;
    timeline_->LeaseEvent(now_, node.index, client.id, event,
                          deadline ? node.clock.TrueTimeAt(event.deadline_us, now_) : -1);
  }
  const std::string who = absl::StrCat(node.Name(), " c", client.id);
  switch (event.kind) {
    case Kind::kGranted:
      ++stats_.grants;
      if (stats_.grants_by_node.size() <= static_cast<std::size_t>(node.index)) {
        stats_.grants_by_node.resize(node.index + 1);
      }
      ++stats_.grants_by_node[node.index];
      if (scenario_.actions.empty() || now_ < scenario_.actions.front().at_us) {
        ++stats_.grants_before_faults;
      } else if (now_ < scenario_.QuietUs()) {
        ++stats_.grants_during_faults;
      }
      checker_->OnGranted(now_, node.index, event.request, event.resource, event.token,
                          event.deadline_us);
      if (std::optional<std::string> overtaken =
              fairness_->OnGranted(now_, core::Owner{node.id, node.incarnation, event.request})) {
        checker_->AddFinding(now_, "F1", std::move(*overtaken));
      }
      checker_->OnWaitEnd(event.resource, node.index, now_, /*gave_up=*/false);
      client.state = Client::State::kHolding;
      client.token = event.token;
      client.hold_end = now_ + rng_.Between(scenario_.hold_us / 2, scenario_.hold_us * 3 / 2);
      Say(who, " granted '", event.resource, "' token ", FormatToken(event.token),
          ", trusts it for ", (event.deadline_us - now.mono_us) / 1000, "ms");
      ScheduleClient(client, 0);
      return;
    case Kind::kRenewed:
      ++stats_.renewals;
      checker_->OnRenewed(now_, node.index, event.request, event.resource, event.deadline_us);
      return;
    case Kind::kRenewFailed:
      ++stats_.renewals_failed;
      Say(who, " could not renew '", event.resource, "'; it trusts the lease ",
          std::max<int64_t>(0, event.deadline_us - now.mono_us) / 1000, "ms more");
      return;
    case Kind::kReleased:
      ++stats_.releases;
      checker_->OnEnded(now_, node.index, event.request, event.resource);
      Say(who, " releases '", event.resource, "' token ", FormatToken(event.token));
      break;
    case Kind::kExpired:
      ++stats_.expiries;
      checker_->OnEnded(now_, node.index, event.request, event.resource);
      Say(who, " lease on '", event.resource, "' token ", FormatToken(event.token),
          " ran out; it stops using it");
      break;
    case Kind::kFailed:
      ++stats_.failures;
      checker_->OnWaitEnd(event.resource, node.index, now_, /*gave_up=*/true);
      fairness_->OnGaveUp(core::Owner{node.id, node.incarnation, event.request});
      Say(who, " gave up on '", event.resource, "': ", event.status.ToString());
      break;
  }
  node.client_of_request.erase(it);
  client.state = Client::State::kIdle;
  ++client.gen;
  ScheduleClient(client, rng_.Between(scenario_.think_us / 2, scenario_.think_us * 3 / 2));
}

}  // namespace lockmesh::sim
