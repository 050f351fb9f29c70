// etcd's Clients and Locker: the concurrency package's Session and Mutex (etcd
// client/v3/concurrency/session.go and mutex.go) over the gRPC gateway.
//
// Mutex, as mutex.go does it, for a resource R with session lease L:
//   prefix = "lockmesh-bench/lock/R/", key = prefix + hex(L)
//   Lock:   txn if create_revision(key) == 0
//             then put key (lease L), range prefix first-created (limit 1)
//             else range key,         range prefix first-created (limit 1)
//           my revision = the txn's header revision, or the key's create_revision if it
//           existed; held if the first-created key is ours;
//           else (waitDeletes) repeat: range prefix with max_create_revision = mine - 1,
//           last-created (limit 1); none left -> held; else watch that key from the range's
//           revision until it is deleted.
//           A failed or timed-out wait deletes our key (Unlock), so no one waits behind it.
//   Unlock: delete key.
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/comparison/etcd_gateway.h"
#include "bench/comparison/etcd_system.h"

namespace lockmesh::bench::comparison {
namespace {

using Clock = std::chrono::steady_clock;

// Bounds of the requests that are not part of a caller's wait: lease grant and revoke,
// keep-alive, and the delete that cleans up after a failed Acquire.
constexpr std::chrono::seconds kRequestBound{5};

struct Member {
  std::string host;
  uint16_t port;
};

std::string Base64(absl::string_view bytes) { return absl::Base64Escape(bytes); }

// The end of the range of keys starting with `prefix` (etcd's GetPrefixRangeEnd); the
// recipe's prefixes end in '/', so incrementing the last byte never carries.
std::string PrefixEnd(std::string prefix) {
  ++prefix.back();
  return prefix;
}

// The keys of one recipe lock: `prefix` holds every waiter's key, `key` is this session's.
struct LockKeys {
  LockKeys(const std::string& resource, int64_t lease)
      : prefix(absl::StrCat("lockmesh-bench/lock/", resource, "/")),
        key(absl::StrCat(prefix, absl::Hex(lease))) {}
  std::string prefix;
  std::string key;
};

// The n-th element of a JSON array, or an empty tree.
const Json& Nth(const Json& array, std::size_t n) {
  static const Json kEmpty;
  for (const auto& [_, element] : array) {
    if (n-- == 0) return element;
  }
  return kEmpty;
}

// Renews the leases of every Locker of one Clients every ttl/3 on its own thread and
// connection, as clientv3's lessor does for its sessions.
class KeepAlive {
 public:
  KeepAlive(Member member, std::chrono::seconds ttl)
      : gateway_(member.host, member.port),
        interval_(std::chrono::duration_cast<Clock::duration>(ttl) / 3),
        thread_([this] { Loop(); }) {}

  ~KeepAlive() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void Add(int64_t lease) {
    std::lock_guard lock(mu_);
    leases_.insert(lease);
  }
  void Remove(int64_t lease) {
    std::lock_guard lock(mu_);
    leases_.erase(lease);
    expired_.erase(lease);
  }
  // True once etcd said `lease` is gone (TTL 0): its keys were deleted.
  bool Expired(int64_t lease) {
    std::lock_guard lock(mu_);
    return expired_.contains(lease);
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, interval_, [this] { return stop_; })) {
      const std::set<int64_t> leases = leases_;
      lock.unlock();
      std::vector<int64_t> gone;
      for (int64_t lease : leases) {
        absl::StatusOr<Json> reply =
            gateway_.Call("/v3/lease/keepalive", absl::StrCat(R"({"ID":")", lease, R"("})"),
                          Clock::now() + kRequestBound);
        // A failed request is retried at the next tick, like clientv3's; a reply without a
        // TTL means the lease expired before this renewal reached it.
        if (reply.ok() && JsonInt(*reply, "result.TTL") <= 0) gone.push_back(lease);
      }
      lock.lock();
      for (int64_t lease : gone) {
        if (leases_.erase(lease) > 0) expired_.insert(lease);
      }
    }
  }

  EtcdGateway gateway_;  // used by the thread only
  const Clock::duration interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::set<int64_t> leases_;
  std::set<int64_t> expired_;
  std::thread thread_;  // last: starts after everything it reads
};

class EtcdLocker final : public Locker {
 public:
  EtcdLocker(Member member, std::shared_ptr<KeepAlive> keep_alive, std::chrono::seconds ttl)
      : gateway_(member.host, member.port), keep_alive_(std::move(keep_alive)), ttl_(ttl) {}

  ~EtcdLocker() override {
    if (lease_ == 0) return;
    keep_alive_->Remove(lease_);
    // Session.Close: revoking the lease deletes every key this session still has.
    (void)gateway_.Call("/v3/lease/revoke", absl::StrCat(R"({"ID":")", lease_, R"("})"),
                        Clock::now() + kRequestBound);
  }

  // NewSession: grants the session lease and hands it to the keep-alive thread.
  absl::Status OpenSession() {
    absl::StatusOr<Json> reply =
        gateway_.Call("/v3/lease/grant", absl::StrCat(R"({"TTL":")", ttl_.count(), R"("})"),
                      Clock::now() + kRequestBound);
    if (!reply.ok()) return reply.status();
    lease_ = JsonInt(*reply, "ID");
    if (lease_ == 0) return absl::UnavailableError("etcd lease grant: no lease ID in the reply");
    keep_alive_->Add(lease_);
    return absl::OkStatus();
  }

  absl::Status Acquire(const std::string& resource, std::chrono::milliseconds wait) override {
    const Clock::time_point deadline = Clock::now() + wait;
    if (absl::Status s = RenewSessionIfExpired(); !s.ok()) return s;
    held_.emplace(resource, lease_);
    int64_t my_revision = 0;
    absl::StatusOr<bool> first = Enter(*held_, deadline, &my_revision);
    absl::Status status = first.status();
    if (first.ok() && !*first) status = WaitDeletes(held_->prefix, my_revision - 1, deadline);
    if (!status.ok()) {
      (void)Delete(held_->key);  // Lock's "release lock key if wait failed"
      held_.reset();
    }
    return status;
  }

  absl::Status Release() override {
    if (!held_) return absl::FailedPreconditionError("Release without a held lock");
    absl::Status status = Delete(held_->key);
    held_.reset();
    return status;
  }

  absl::Status Hold(const std::string& resource, std::chrono::milliseconds ttl) override {
    if (absl::Status s = RenewSessionIfExpired(); !s.ok()) return s;
    const LockKeys keys(resource, lease_);
    int64_t my_revision = 0;
    absl::StatusOr<bool> first = Enter(keys, Clock::now() + kRequestBound, &my_revision);
    if (first.ok() && *first) return absl::OkStatus();  // kept until the session ends
    (void)Delete(keys.key);
    if (!first.ok()) return first.status();
    return absl::AlreadyExistsError(absl::StrCat("etcd lock ", resource, " is held by another"));
  }

 private:
  // A session whose lease expired has lost its keys; start a new one, and fail this call so
  // the caller counts the lost session.
  absl::Status RenewSessionIfExpired() {
    if (!keep_alive_->Expired(lease_)) return absl::OkStatus();
    keep_alive_->Remove(lease_);
    lease_ = 0;
    held_.reset();
    if (absl::Status s = OpenSession(); !s.ok()) return s;
    return absl::AbortedError("etcd session lease expired; a new session was started");
  }

  // Lock's first transaction. True if this session's key is the first created under the
  // prefix (the lock is held); `my_revision` is the key's create revision either way.
  absl::StatusOr<bool> Enter(const LockKeys& keys, Clock::time_point deadline,
                             int64_t* my_revision) {
    const std::string key = Base64(keys.key);
    const std::string owner =
        absl::StrCat(R"({"request_range":{"key":")", Base64(keys.prefix), R"(","range_end":")",
                     Base64(PrefixEnd(keys.prefix)),
                     R"(","limit":"1","sort_order":"ASCEND","sort_target":"CREATE"}})");
    const std::string txn = absl::StrCat(
        R"({"compare":[{"target":"CREATE","key":")", key, R"(","create_revision":"0"}],)",
        R"("success":[{"request_put":{"key":")", key, R"(","lease":")", lease_, R"("}},)", owner,
        "],", R"("failure":[{"request_range":{"key":")", key, R"("}},)", owner, "]}");
    absl::StatusOr<Json> reply = gateway_.Call("/v3/kv/txn", txn, deadline);
    if (!reply.ok()) return reply.status();
    const Json& responses = JsonChild(*reply, "responses");
    if (reply->get<std::string>("succeeded", "false") == "true") {
      *my_revision = JsonInt(*reply, "header.revision");
    } else {
      // The key is there already (a retried request): reuse it, as Lock does.
      *my_revision =
          JsonInt(Nth(JsonChild(Nth(responses, 0), "response_range.kvs"), 0), "create_revision");
    }
    if (*my_revision == 0) return absl::InternalError("etcd txn: no revision for our key");
    const Json& first = JsonChild(Nth(responses, 1), "response_range.kvs");
    return first.empty() || JsonInt(Nth(first, 0), "create_revision") == *my_revision;
  }

  // waitDeletes: until no key under `prefix` created at or before `max_revision` is left,
  // waits for the deletion of the last-created of them (our predecessor).
  absl::Status WaitDeletes(const std::string& prefix, int64_t max_revision,
                           Clock::time_point deadline) {
    const std::string range =
        absl::StrCat(R"({"key":")", Base64(prefix), R"(","range_end":")", Base64(PrefixEnd(prefix)),
                     R"(","limit":"1","sort_order":"DESCEND","sort_target":"CREATE",)",
                     R"("max_create_revision":")", max_revision, R"("})");
    while (true) {
      absl::StatusOr<Json> reply = gateway_.Call("/v3/kv/range", range, deadline);
      if (!reply.ok()) return reply.status();
      const Json& kvs = JsonChild(*reply, "kvs");
      if (kvs.empty()) return absl::OkStatus();
      const std::string predecessor = Nth(kvs, 0).get<std::string>("key", "");
      absl::Status deleted =
          gateway_.WaitDelete(predecessor, JsonInt(*reply, "header.revision"), deadline);
      if (!deleted.ok()) return deleted;
    }
  }

  absl::Status Delete(const std::string& key) {
    absl::StatusOr<Json> reply =
        gateway_.Call("/v3/kv/deleterange", absl::StrCat(R"({"key":")", Base64(key), R"("})"),
                      Clock::now() + kRequestBound);
    return reply.status();
  }

  EtcdGateway gateway_;
  std::shared_ptr<KeepAlive> keep_alive_;
  const std::chrono::seconds ttl_;
  int64_t lease_ = 0;
  std::optional<LockKeys> held_;  // the lock Acquire took, until Release
};

class EtcdClients final : public Clients {
 public:
  EtcdClients(std::vector<Member> members, std::chrono::seconds ttl)
      : members_(std::move(members)),
        ttl_(ttl),
        keep_alive_(std::make_shared<KeepAlive>(members_[0], ttl)) {}

  absl::StatusOr<std::unique_ptr<Locker>> NewLocker() override {
    const Member& member = members_[next_member_++ % members_.size()];
    auto locker = std::make_unique<EtcdLocker>(member, keep_alive_, ttl_);
    if (absl::Status s = locker->OpenSession(); !s.ok()) return s;
    return locker;
  }

 private:
  const std::vector<Member> members_;
  const std::chrono::seconds ttl_;
  std::shared_ptr<KeepAlive> keep_alive_;  // shared: a Locker may outlive its Clients
  std::size_t next_member_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Clients>> MakeEtcdClients(const std::string& endpoints,
                                                         const LockOptions& options) {
  std::vector<Member> members;
  for (absl::string_view endpoint : absl::StrSplit(endpoints, ',', absl::SkipEmpty())) {
    const std::vector<absl::string_view> parts = absl::StrSplit(endpoint, ':');
    uint32_t port = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &port) || port == 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("etcd endpoint not host:port: ", endpoint));
    }
    members.push_back({std::string(parts[0]), static_cast<uint16_t>(port)});
  }
  if (members.empty()) return absl::InvalidArgumentError("no etcd endpoints");
  // The lease TTL in whole seconds, rounded up, at least 1.
  const auto ttl =
      std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(options.ttl));
  return std::make_unique<EtcdClients>(std::move(members), ttl);
}

}  // namespace lockmesh::bench::comparison
