// File: lockmesh/node.h
//
// A lockmesh node embedded in a C++ process: it joins the cluster by gossip, votes on leases
// if it is a voter, and takes leases for its callers. Three forms of every acquire:
//
//   auto node = lockmesh::Node::Start(options);              // on a thread of its own
//   if (!node.ok()) return node.status();
//   // Blocking:
//   absl::StatusOr<lockmesh::Lease> lease = (*node)->Acquire("jobs/7", {.duration = 5s});
//   // Callback (runs on the node's executor):
//   (*node)->AcquireAsync("jobs/7", {}, [](absl::StatusOr<lockmesh::Lease> lease) { ... });
//   // Completion token, e.g. in a coroutine on the embedder's io_context:
//   absl::StatusOr<lockmesh::Lease> l =
//       co_await node->async_acquire("jobs/7", {}, boost::asio::use_awaitable);
//
// Errors a caller can act on (absl::StatusCode):
//   kDeadlineExceeded   the wait limit passed while others held the lease;
//   kAborted            a try-acquire (wait 0) found the lease held, or a request for the
//                       same resource from this node is ahead of it;
//   kUnavailable        no quorum: a majority of voters did not answer or are in restart
//                       quarantine, or the circuit breaker is open;
//   kCancelled          CancelSignal::Cancel(), or the node stopped;
//   kInvalidArgument    bad resource name (1..256 bytes) or duration;
//   kResourceExhausted  too many requests waiting on this node (4096), or leases held
//                       through it (131,072);
//   kFailedPrecondition a blocking call (Acquire, AcquireAll, TryAcquire, Members, SetTags,
//                       Lease::Renew) on a thread that runs the node's io_context.
//
// Thread safety: every method may be called from any thread. Blocking methods must not be
// called from a thread that runs the node's io_context (they would wait on themselves and
// return FailedPrecondition instead). Callbacks and completion handlers are never run inside
// the call that started them.
#pragma once

// clang-format off: Boost 1.74's awaitable.hpp needs <utility> first under GCC 12.
#include <utility>
// clang-format on

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lockmesh/lease.h"
#include "lockmesh/metrics.h"
#include "lockmesh/options.h"

namespace lockmesh {
namespace runtime {
class Engine;
}  // namespace runtime

// One member as this node sees it.
struct MemberView {
  enum class State : uint8_t { kAlive, kSuspect, kDead, kLeft };
  std::string name;
  std::string address;
  bool voter = false;
  State state = State::kAlive;
  std::map<std::string, std::string> tags;
};

using AcquireCallback = absl::AnyInvocable<void(absl::StatusOr<Lease>)>;
using AcquireAllCallback = absl::AnyInvocable<void(absl::StatusOr<std::vector<Lease>>)>;

class Node {
 public:
  using executor_type = boost::asio::io_context::executor_type;

  // Starts a node on a thread of its own. InvalidArgument for bad options (see options.h),
  // Unavailable if the socket cannot be bound.
  static absl::StatusOr<std::unique_ptr<Node>> Start(NodeOptions options);
  // Starts a node on the embedder's io_context, which must be run (by any number of threads)
  // for the node to work; the node serializes its own work.
  static absl::StatusOr<std::unique_ptr<Node>> Start(NodeOptions options,
                                                     boost::asio::io_context& io);

  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Stop(), then releases the thread (own-thread nodes).
  ~Node();

  // Leaves the cluster gracefully: fails waiting acquires with Cancelled, releases every
  // lease still held, announces the leave by gossip (up to NodeOptions::leave_timeout), and
  // closes the socket. Idempotent. From an io_context thread it starts the stop and returns
  // without waiting. On the embedder's io_context, that io_context must be running for a
  // waiting Stop() (and so the destructor) to return, and it must outlive the node.
  void Stop();

  // Acquires `resource`, waiting up to options.wait while others hold it.
  absl::StatusOr<Lease> Acquire(std::string_view resource, AcquireOptions options = {});
  // One attempt, no waiting: Aborted if another owner holds the lease. A try of a resource
  // whose last try on this node was refused as held first waits out a short jittered spacing
  // (a few round trips, doubling with each refusal in a row up to 8 times, within the
  // timing's backoff ceiling), so callers trying in a loop do not flood the voters.
  absl::StatusOr<Lease> TryAcquire(std::string_view resource, AcquireOptions options = {});
  // The callback form; `done` runs once, on the node's executor.
  void AcquireAsync(std::string resource, AcquireOptions options, AcquireCallback done);

  // All of `resources` or none, within one overall wait limit. The leases are taken one at a
  // time in one canonical order (sorted, duplicates dropped), so two callers asking for
  // overlapping sets cannot deadlock; on failure those taken are released. The result is in
  // that sorted order.
  absl::StatusOr<std::vector<Lease>> AcquireAll(std::vector<std::string> resources,
                                                AcquireOptions options = {});
  void AcquireAllAsync(std::vector<std::string> resources, AcquireOptions options,
                       AcquireAllCallback done);

  // Completion-token forms, signature void(absl::StatusOr<Lease>) and
  // void(absl::StatusOr<std::vector<Lease>>). The handler runs on its associated executor
  // (the node's executor if it has none).
  template <typename CompletionToken>
  auto async_acquire(std::string resource, AcquireOptions options, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(absl::StatusOr<Lease>)>(
        [this](auto handler, std::string resource, AcquireOptions options) {
          AcquireAsync(std::move(resource), std::move(options),
                       Deliver<absl::StatusOr<Lease>>(std::move(handler)));
        },
        token, std::move(resource), std::move(options));
  }
  template <typename CompletionToken>
  auto async_acquire_all(std::vector<std::string> resources, AcquireOptions options,
                         CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(absl::StatusOr<std::vector<Lease>>)>(
        [this](auto handler, std::vector<std::string> resources, AcquireOptions options) {
          AcquireAllAsync(std::move(resources), std::move(options),
                          Deliver<absl::StatusOr<std::vector<Lease>>>(std::move(handler)));
        },
        token, std::move(resources), std::move(options));
  }

  // Key rotation on a running node (see lib/crypto/keyring.h for the three steps, each done
  // on every node before the next): accept a new key, seal with it, stop accepting the old
  // one. InvalidArgument for malformed key text; the keyring's codes otherwise
  // (AlreadyExists, NotFound, FailedPrecondition for removing the primary).
  absl::Status AddKey(std::string_view key_text);
  absl::Status UseKey(std::string_view key_text);
  absl::Status RemoveKey(std::string_view key_text);

  // Publishes this node's tags by gossip (replacing them). InvalidArgument past the bounds.
  // Blocking.
  absl::Status SetTags(std::map<std::string, std::string> tags);

  // The members this node knows, itself included, ordered by name. Blocking:
  // FailedPrecondition on a thread that runs the node's io_context (use MembersAsync there).
  absl::StatusOr<std::vector<MemberView>> Members() const;
  // The callback form; `done` runs once, on the node's executor.
  void MembersAsync(absl::AnyInvocable<void(std::vector<MemberView>)> done) const;
  // A snapshot of the counters; never blocks on the node's work, so it may be called from
  // anywhere, the node's own callbacks included.
  Metrics GetMetrics() const;

  const std::string& name() const;
  // The advertised "ip:port" (with the real port when the node was bound to port 0).
  const std::string& address() const;
  executor_type get_executor() const;

 private:
  friend class Election;

  Node(std::shared_ptr<runtime::Engine> engine, std::unique_ptr<boost::asio::io_context> own_io);

  // Wraps a completion handler as a callback that posts it to its associated executor.
  template <typename Result, typename Handler>
  absl::AnyInvocable<void(Result)> Deliver(Handler handler) {
    // The tracked executor keeps the handler's io_context running until the result is posted.
    auto ex = boost::asio::prefer(boost::asio::get_associated_executor(handler, get_executor()),
                                  boost::asio::execution::outstanding_work.tracked);
    return [handler = std::move(handler), ex = std::move(ex)](Result result) mutable {
      boost::asio::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
    };
  }

  std::shared_ptr<runtime::Engine> engine_;
  std::unique_ptr<boost::asio::io_context> own_io_;
  struct Thread;
  std::unique_ptr<Thread> thread_;
};

}  // namespace lockmesh
