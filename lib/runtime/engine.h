// File: runtime/engine.h
//
// The Boost.Asio driver behind lockmesh::Node: it owns the sans-IO cores (LeaseNode and
// Gossip), feeds them real clocks, a socket and secure random seeds, and turns their effects
// into datagrams, timers and API completions. Above the core it keeps what only an API needs:
// pending acquires and their callbacks, the leases held through handles (renewal, hold cap,
// loss reports), the circuit breaker, metrics and the log hook.
//
// Everything runs on one strand of the io_context, so the cores see one input at a time
// however many threads run the io_context. Public entry points post onto the strand.
// Callbacks into the embedder's code (completions, renewal results, loss reports) run after
// the handler's work is done, never in the middle of it; log records go out at once.
//
// Not part of the public API; lockmesh::Node is its only user besides tests.
#pragma once

// clang-format off: Boost 1.74's awaitable.hpp needs <utility> first under GCC 12.
#include <utility>
// clang-format on

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "lib/core/lease_node.h"
#include "lib/core/membership/gossip.h"
#include "lib/core/random.h"
#include "lib/crypto/keyring.h"
#include "lib/runtime/lease_state.h"
#include "lib/runtime/transport.h"
#include "lockmesh/lease.h"
#include "lockmesh/metrics.h"
#include "lockmesh/node.h"
#include "lockmesh/options.h"

namespace lockmesh::runtime {

// The settings Start derives from NodeOptions, validated.
struct Settings {
  NodeOptions options;
  core::LeaseConfig lease;
  core::GossipConfig gossip;
  core::MemberInfo self;
  udp::endpoint bind;
  std::vector<std::string> seeds;                             // numeric "ip:port"
  absl::btree_map<core::NodeId, udp::endpoint> voter_routes;  // voters with known addresses
  std::shared_ptr<crypto::Keyring> keyring;
};

// Validates `options` and derives the settings; InvalidArgument naming the first problem.
// Resolves host names (blocking). The advertised address is final once the socket is bound.
absl::StatusOr<Settings> MakeSettings(NodeOptions options);

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  // Binds the socket (the advertised address takes the bound port if it was 0) and builds the
  // cores; nothing runs until Start().
  static absl::StatusOr<std::shared_ptr<Engine>> Create(Settings settings,
                                                        boost::asio::io_context& io);
  ~Engine();

  // Joins the cluster and starts receiving. Once.
  void Start();
  // See Node::Stop; `done` runs on the strand when the socket is closed.
  void Stop(absl::AnyInvocable<void()> done);

  // Node::AcquireAsync. `publish_tag`, if not empty, is a gossip tag set to the token while
  // the lease is held (elections).
  void Acquire(std::string resource, AcquireOptions options, std::string publish_tag,
               AcquireCallback done);
  void AcquireAll(std::vector<std::string> resources, AcquireOptions options,
                  AcquireAllCallback done);
  // Gives back a lease held through a handle (Lease::Release, ~Lease). Any thread.
  void Release(uint64_t request);
  // Lease::RenewAsync: renews now, for `duration_us` (0: the lease's own duration).
  void Renew(uint64_t request, int64_t duration_us, absl::AnyInvocable<void(absl::Status)> done);

  void SetTags(core::Tags tags, absl::AnyInvocable<void(absl::Status)> done);
  void GetMembers(absl::AnyInvocable<void(std::vector<MemberView>)> done);
  Metrics GetMetrics() const;

  crypto::Keyring& keyring() { return *keyring_; }
  const std::string& name() const { return settings_.self.name; }
  const std::string& address() const { return settings_.self.address; }
  core::NodeId id() const { return settings_.lease.self; }
  boost::asio::io_context::executor_type executor() const { return io_.get_executor(); }
  bool InIoThread() const { return io_.get_executor().running_in_this_thread(); }
  // True once Stop() has closed the socket; any thread.
  bool stopped() const { return stopped_flag_.load(); }
  // REQUIRES: on the strand (an engine handler).
  void Log(LogLevel level, std::string_view event, std::string message) const;
  // Log() from any thread: the record is handed to the hook on the node's executor, as
  // log.h promises.
  void LogFromAnyThread(LogLevel level, std::string event, std::string message);

 private:
  struct Pending {
    std::string resource;
    AcquireOptions options;
    std::string publish_tag;
    AcquireCallback done;
    int64_t started_us = 0;
    int64_t wait_deadline_us = 0;
    // The caller asked for one attempt (wait 0). A waiting request whose wait has run out is
    // failed by the engine, never turned into a try.
    bool try_once = false;
    // The engine's own id, from the call on: the core's id exists only once the request is
    // under way, and a request the breaker holds back has none.
    uint64_t ticket = 0;
    uint64_t cancel_registration = 0;
  };
  struct Held {
    std::shared_ptr<LeaseState> state;
    int64_t duration_us = 0;
    bool auto_renew = false;
    int64_t hold_until_us = 0;  // INT64_MAX: no cap
    int64_t loss_margin_us = 0;
    int64_t renew_at_us = 0;  // INT64_MAX: no renewal planned
    int64_t loss_at_us = 0;
    bool renewing = false;
    bool capped = false;  // the hold cap allows no renewal past the current deadline
    std::string publish_tag;
    std::function<void(const absl::Status&)> on_lost;
    // Callers of Renew waiting for the renewal on its way.
    std::vector<absl::AnyInvocable<void(absl::Status)>> renew_waiters;
  };
  // One AcquireAll: its resources in order, and the leases taken so far.
  struct Multi {
    std::vector<std::string> resources;
    AcquireOptions options;
    AcquireAllCallback done;
    std::vector<Lease> leases;
    int64_t started_us = 0;
  };
  struct Breaker {
    int failures = 0;  // requests failed for no quorum, in a row
    bool open = false;
    int64_t open_until_us = 0;
    int64_t cooldown_us = 0;
    bool probing = false;  // half-open: one request is testing the cluster
  };

  Engine(Settings settings, boost::asio::io_context& io);

  // engine.cc: the event loop.
  core::Now Now() const;
  using Callbacks = std::vector<absl::AnyInvocable<void()>>;
  // Runs `f` on the strand, then lets the engine react (flush, timers, metrics), then runs
  // the callbacks `f` left.
  template <typename F>
  void Post(F f) {
    boost::asio::post(strand_, [self = shared_from_this(), f = std::move(f)]() mutable {
      f();
      self->AfterInput();
      self->RunCallbacks();
    });
  }
  void RunCallbacks() {
    Callbacks callbacks;
    callbacks.swap(callbacks_);
    for (auto& c : callbacks) c();
  }
  // Queues a call into the embedder's code for when the state is let go.
  void Defer(absl::AnyInvocable<void()> callback) { callbacks_.push_back(std::move(callback)); }
  void AfterInput();
  void PostFlush();
  void ReportSlowAttempts();
  void ScheduleTick();
  void OnTimer();
  void Receive();
  void OnReceived(boost::system::error_code ec, std::size_t bytes);
  void OnDatagram(std::string_view datagram, const udp::endpoint& from);
  void Apply(core::Effects& fx);
  void Apply(core::GossipEffects& fx);
  void SendTo(const udp::endpoint& to, const core::Envelope& envelope);
  void Route(const core::Envelope& envelope);
  void OnMemberEvent(const core::MemberEvent& event);
  void CountMembers();
  void PublishMetrics();
  void FinishStop();
  void UpdateTag(const std::string& key, const std::string& value);

  // engine_leases.cc: requests, release, the breaker.
  void Enqueue(Pending pending);
  void AcquireNext(std::shared_ptr<Multi> multi);
  void StartRequest(Pending pending);
  void CancelRequest(uint64_t ticket);
  void Begin(Pending pending, core::Now now);
  void OnLeaseEvent(core::LeaseEvent event, core::Now now);
  void Granted(const core::LeaseEvent& event, core::Now now);
  void Failed(const core::LeaseEvent& event, core::Now now);
  void ReleaseNow(uint64_t request, core::Now now);
  void BreakerTimers(core::Now now);
  void Complete(Pending& pending, absl::StatusOr<Lease> result);

  // engine_renewal.cc: held leases' renewal and loss.
  void OnRenewed(const core::LeaseEvent& event, core::Now now);
  void OnRenewFailed(const core::LeaseEvent& event, core::Now now);
  void LeaseTimers(core::Now now);
  void StartRenewal(uint64_t request, Held& held, core::Now now);
  void FinishRenewals(Held& held, const absl::Status& status);
  void ReportLost(Held& held, absl::Status why, core::Now now);
  void PlanRenewal(Held& held, core::Now now);
  int64_t NextLeaseWakeUs() const;

  Callbacks callbacks_;  // Defer()'s, run when the handler's work is done
  bool flush_posted_ = false;
  uint64_t slow_attempts_seen_ = 0;

  Settings settings_;
  boost::asio::io_context& io_;
  Strand strand_;
  boost::asio::steady_timer timer_;
  int64_t timer_at_us_ = 0;
  std::shared_ptr<crypto::Keyring> keyring_;
  Transport transport_;
  core::Rng rng_;
  std::unique_ptr<core::LeaseNode> lease_;
  std::unique_ptr<core::Gossip> gossip_;

  std::array<char, 65536> recv_buffer_;
  udp::endpoint recv_from_;

  // Where to send lease messages: configured voter addresses, then what gossip says, then the
  // source of the last authenticated datagram from that node.
  absl::btree_map<core::NodeId, udp::endpoint> routes_;
  absl::flat_hash_map<std::string, udp::endpoint> parsed_addresses_;  // gossip address text

  absl::btree_map<uint64_t, Pending> pending_;  // by core request id
  absl::btree_map<uint64_t, Held> held_;
  std::deque<Pending> deferred_;  // waiting for the breaker's cooldown
  uint64_t next_ticket_ = 1;
  Breaker breaker_;

  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::atomic<bool> stopped_flag_{false};
  int64_t stop_deadline_us_ = 0;
  std::vector<absl::AnyInvocable<void()>> stop_done_;

  mutable absl::Mutex metrics_mu_;
  Metrics metrics_ ABSL_GUARDED_BY(metrics_mu_);
  // Counters the engine keeps itself (the cores and transport keep the rest).
  Metrics own_;
};

}  // namespace lockmesh::runtime
