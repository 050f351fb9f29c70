// ZooKeeper's Clients and Locker: the lock recipe of ZooKeeper's "Recipes and Solutions"
// (as Curator's InterProcessMutex and the zookeeper-recipes-lock WriteLock do it) with the C
// client's synchronous API.
//
// For a resource R, in a session whose id is S:
//   Lock:   create /locks/R/<S>-lock- as EPHEMERAL|SEQUENTIAL (the parents created as needed,
//           "node exists" is fine); then repeat: get the children of /locks/R; held if ours
//           has the lowest sequence number; else exists(predecessor, watch) on the child
//           just below ours: if it is gone already, repeat at once, else wait for the watch.
//           The session id in the name is the recipe's GUID: after a connection loss during
//           the create, the node is found among the children instead of created twice.
//           A timed-out or failed wait deletes our node, so no one waits behind it.
//   Unlock: delete our node.
//
// Waiting: the watcher only counts events under a mutex and wakes the caller; the caller
// re-reads the children after any event (spurious wake-ups from watches left by an earlier,
// abandoned wait just cost one more read). The synchronous calls themselves are bounded by
// the session (the client gives up after the connection is lost for 2/3 of the timeout),
// not by the caller's wait.
#include "bench/comparison/zookeeper_system.h"

#if LOCKMESH_HAVE_ZOOKEEPER

// libzookeeper_mt: THREADED declares the synchronous API (zoo_create, ...).
#define THREADED
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace lockmesh::bench::comparison {
namespace {

using Clock = std::chrono::steady_clock;

// How long NewLocker waits for its session to connect.
constexpr std::chrono::seconds kConnectBound{30};
// A sequential node's name ends in a 10-digit counter.
constexpr std::size_t kSequenceDigits = 10;
constexpr int kPathBytesMax = 1024;

// What the client's threads tell the caller: the session state and a count of node events.
struct Events {
  std::mutex mu;
  std::condition_variable changed;
  int state = 0;  // the last session state (ZOO_CONNECTED_STATE, ...); 0 before any
  uint64_t node_events = 0;
};

// The watcher of the session and of every exists() watch (libzookeeper's completion thread).
void OnEvent(zhandle_t*, int type, int state, const char*, void* context) {
  auto* events = static_cast<Events*>(context);
  {
    std::lock_guard lock(events->mu);
    if (type == ZOO_SESSION_EVENT) {
      events->state = state;
    } else {
      ++events->node_events;
    }
  }
  events->changed.notify_all();
}

absl::Status ZkError(absl::string_view what, int rc) {
  const std::string text = absl::StrCat("zookeeper ", what, ": ", zerror(rc));
  if (rc == ZSESSIONEXPIRED) return absl::AbortedError(text);
  if (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT) return absl::UnavailableError(text);
  return absl::InternalError(text);
}

int64_t Sequence(const std::string& name) {
  int64_t n = -1;
  if (name.size() < kSequenceDigits ||
      !absl::SimpleAtoi(absl::string_view(name).substr(name.size() - kSequenceDigits), &n)) {
    return -1;
  }
  return n;
}

class ZookeeperLocker final : public Locker {
 public:
  ZookeeperLocker(std::string hosts, std::chrono::milliseconds ttl)
      : hosts_(std::move(hosts)), ttl_(ttl) {}

  ~ZookeeperLocker() override { CloseSession(); }

  // Opens the session and waits (bounded) until it is connected.
  absl::Status OpenSession() {
    events_->state = 0;
    zh_ = zookeeper_init(hosts_.c_str(), OnEvent, static_cast<int>(ttl_.count()), nullptr,
                         events_.get(), 0);
    if (zh_ == nullptr) return absl::InternalError("zookeeper_init failed");
    std::unique_lock lock(events_->mu);
    if (!events_->changed.wait_for(lock, kConnectBound,
                                   [&] { return events_->state == ZOO_CONNECTED_STATE; })) {
      lock.unlock();
      CloseSession();
      return absl::UnavailableError(absl::StrCat(
          "zookeeper session to ", hosts_, " not connected within ", kConnectBound.count(), " s"));
    }
    session_ = absl::StrCat(absl::Hex(zoo_client_id(zh_)->client_id));
    return absl::OkStatus();
  }

  absl::Status Acquire(const std::string& resource, std::chrono::milliseconds wait) override {
    const Clock::time_point deadline = Clock::now() + wait;
    if (absl::Status s = ReopenIfExpired(); !s.ok()) return s;
    const std::string dir = absl::StrCat("/locks/", resource);
    absl::StatusOr<std::string> node = Create(dir);
    if (!node.ok()) return node.status();
    absl::Status status = WaitUntilLowest(dir, *node, deadline);
    if (!status.ok()) {
      Abandon(*node);
      return status;
    }
    held_ = *node;
    return absl::OkStatus();
  }

  absl::Status Release() override {
    if (held_.empty()) return absl::FailedPreconditionError("Release without a held lock");
    const int rc = zoo_delete(zh_, held_.c_str(), -1);
    held_.clear();
    return rc == ZOK ? absl::OkStatus() : ZkError("delete", rc);
  }

  absl::Status Hold(const std::string& resource, std::chrono::milliseconds ttl) override {
    if (absl::Status s = ReopenIfExpired(); !s.ok()) return s;
    const std::string dir = absl::StrCat("/locks/", resource);
    absl::StatusOr<std::string> node = Create(dir);
    if (!node.ok()) return node.status();
    absl::StatusOr<std::string> predecessor = Predecessor(dir, *node);
    if (predecessor.ok() && predecessor->empty())
      return absl::OkStatus();  // until the session ends
    Abandon(*node);
    if (!predecessor.ok()) return predecessor.status();
    return absl::AlreadyExistsError(
        absl::StrCat("zookeeper lock ", resource, " is held by another"));
  }

 private:
  void CloseSession() {
    if (zh_ != nullptr) zookeeper_close(zh_);  // joins the client's threads: no event after
    zh_ = nullptr;
  }

  // An expired session lost its nodes and cannot be used again: open a new one, and fail
  // this call so the caller counts the lost session.
  absl::Status ReopenIfExpired() {
    if (zh_ != nullptr && zoo_state(zh_) != ZOO_EXPIRED_SESSION_STATE &&
        zoo_state(zh_) != ZOO_AUTH_FAILED_STATE) {
      return absl::OkStatus();
    }
    CloseSession();
    held_.clear();
    if (absl::Status s = OpenSession(); !s.ok()) return s;
    return absl::AbortedError("zookeeper session expired; a new session was started");
  }

  // Step 1: our EPHEMERAL|SEQUENTIAL node under `dir`; its full path.
  absl::StatusOr<std::string> Create(const std::string& dir) {
    const std::string prefix = absl::StrCat(dir, "/", session_, "-lock-");
    char path[kPathBytesMax];
    int rc = zoo_create(zh_, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_EPHEMERAL_SEQUENTIAL, path, sizeof path);
    if (rc == ZNONODE) {
      if (absl::Status s = CreateParents(dir); !s.ok()) return s;
      rc = zoo_create(zh_, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE,
                      ZOO_EPHEMERAL_SEQUENTIAL, path, sizeof path);
    }
    if (rc == ZCONNECTIONLOSS) return FindOurs(dir);  // the create may have happened
    if (rc != ZOK) return ZkError(absl::StrCat("create under ", dir), rc);
    return std::string(path);
  }

  // After a connection loss during the create: our node, found by the session id in its
  // name, or an error (and then no node of ours is left behind: see Abandon).
  absl::StatusOr<std::string> FindOurs(const std::string& dir) {
    String_vector children{};
    const int rc = zoo_get_children(zh_, dir.c_str(), 0, &children);
    if (rc != ZOK) {
      CloseSession();  // ends the session, so a node it might have created goes too
      return ZkError("create (connection lost)", rc);
    }
    std::string ours;
    for (int i = 0; i < children.count; ++i) {
      if (absl::StartsWith(children.data[i], session_ + "-lock-")) {
        ours = absl::StrCat(dir, "/", children.data[i]);
      }
    }
    deallocate_String_vector(&children);
    if (ours.empty()) return absl::UnavailableError("zookeeper create: connection lost");
    return ours;
  }

  // Creates `dir` (persistent), its missing ancestors first; "node exists" is fine. Tries
  // the deepest first, so a new resource under an existing parent costs one create.
  absl::Status CreateParents(const std::string& dir) {
    int rc =
        zoo_create(zh_, dir.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
    const std::size_t slash = dir.rfind('/');
    if (rc == ZNONODE && slash != std::string::npos && slash > 0) {
      if (absl::Status s = CreateParents(dir.substr(0, slash)); !s.ok()) return s;
      rc = zoo_create(zh_, dir.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr,
                      0);
    }
    if (rc != ZOK && rc != ZNODEEXISTS) return ZkError(absl::StrCat("create ", dir), rc);
    return absl::OkStatus();
  }

  // Steps 2-3: the full path of the child just below `node`, or "" if `node` is the lowest.
  absl::StatusOr<std::string> Predecessor(const std::string& dir, const std::string& node) {
    String_vector children{};
    const int rc = zoo_get_children(zh_, dir.c_str(), 0, &children);
    if (rc != ZOK) return ZkError(absl::StrCat("get children of ", dir), rc);
    const int64_t mine = Sequence(node);
    int64_t below = -1;
    std::string predecessor;
    bool found = false;
    for (int i = 0; i < children.count; ++i) {
      const std::string name = children.data[i];
      const int64_t n = Sequence(name);
      if (n == mine) found = true;
      if (n >= 0 && n < mine && n > below) {
        below = n;
        predecessor = absl::StrCat(dir, "/", name);
      }
    }
    deallocate_String_vector(&children);
    if (!found) return absl::AbortedError(absl::StrCat("zookeeper lock node ", node, " is gone"));
    return predecessor;
  }

  // Steps 2-5 until `node` is the lowest, or DeadlineExceeded.
  absl::Status WaitUntilLowest(const std::string& dir, const std::string& node,
                               Clock::time_point deadline) {
    while (true) {
      absl::StatusOr<std::string> predecessor = Predecessor(dir, node);
      if (!predecessor.ok()) return predecessor.status();
      if (predecessor->empty()) return absl::OkStatus();
      uint64_t seen;
      {
        std::lock_guard lock(events_->mu);
        seen = events_->node_events;
      }
      Stat stat;
      const int rc = zoo_wexists(zh_, predecessor->c_str(), OnEvent, events_.get(), &stat);
      if (rc == ZNONODE) continue;  // gone between the two reads
      if (rc != ZOK) return ZkError(absl::StrCat("exists ", *predecessor), rc);
      std::unique_lock lock(events_->mu);
      const bool woken = events_->changed.wait_until(lock, deadline, [&] {
        return events_->node_events != seen || events_->state != ZOO_CONNECTED_STATE;
      });
      if (!woken) {
        return absl::DeadlineExceededError(
            absl::StrCat("zookeeper lock ", dir, ": still waiting at the deadline"));
      }
      if (events_->state == ZOO_EXPIRED_SESSION_STATE) {
        return absl::AbortedError("zookeeper session expired while waiting");
      }
      // Disconnected (not expired): the next read waits for the reconnection or fails.
    }
  }

  // Deletes `node` after a failed or abandoned wait; if that fails, ends the session so the
  // node cannot block the callers behind it.
  void Abandon(const std::string& node) {
    if (zh_ == nullptr) return;
    const int rc = zoo_delete(zh_, node.c_str(), -1);
    if (rc != ZOK && rc != ZNONODE) CloseSession();
  }

  const std::string hosts_;
  const std::chrono::milliseconds ttl_;
  std::unique_ptr<Events> events_ = std::make_unique<Events>();  // outlives zh_
  zhandle_t* zh_ = nullptr;
  std::string session_;  // the session id in hex: the recipe's GUID
  std::string held_;     // the node Acquire created, until Release
};

class ZookeeperClients final : public Clients {
 public:
  ZookeeperClients(std::string hosts, std::chrono::milliseconds ttl)
      : hosts_(std::move(hosts)), ttl_(ttl) {}

  absl::StatusOr<std::unique_ptr<Locker>> NewLocker() override {
    auto locker = std::make_unique<ZookeeperLocker>(hosts_, ttl_);
    if (absl::Status s = locker->OpenSession(); !s.ok()) return s;
    return locker;
  }

 private:
  const std::string hosts_;
  const std::chrono::milliseconds ttl_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Clients>> MakeZooKeeperClients(const std::string& endpoints,
                                                              const LockOptions& options) {
  if (endpoints.empty()) return absl::InvalidArgumentError("no ZooKeeper endpoints");
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);  // the client logs every connect at INFO
  return std::make_unique<ZookeeperClients>(endpoints, options.ttl);
}

}  // namespace lockmesh::bench::comparison

#else  // !LOCKMESH_HAVE_ZOOKEEPER

namespace lockmesh::bench::comparison {

absl::StatusOr<std::unique_ptr<Clients>> MakeZooKeeperClients(const std::string&,
                                                              const LockOptions&) {
  return absl::FailedPreconditionError(
      "built without the ZooKeeper C client (package libzookeeper-mt-dev)");
}

}  // namespace lockmesh::bench::comparison

#endif  // LOCKMESH_HAVE_ZOOKEEPER
