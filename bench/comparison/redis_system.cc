// The Redis lock recipes as their users run them, over hiredis:
//
//   - "redis": one instance. Acquire: SET key <random value> NX PX ttl, retried with the
//     shared backoff (full jitter) while another holds it. Release: the compare-and-delete
//     script by EVALSHA, so only the holder's own value is deleted.
//   - "redlock": three instances (redsync, node-redlock). Acquire: the same SET sent to all
//     three before any reply is read, so the three are in flight at once; success when a
//     majority said OK and the validity time (ttl minus the time taken minus the clock
//     drift allowance, ttl * 1% + 2 ms) is still positive; otherwise unlock on all and back
//     off. Release: the unlock script on all three, concurrently in the same way.
//
// Endpoints text: the instances' "ip:port" joined by commas (redis_servers.cc).
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/comparison/backoff.h"
#include "bench/comparison/redis_connection.h"
#include "bench/comparison/systems_internal.h"

namespace lockmesh::bench::comparison {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// Redlock's clock drift allowance: redsync's and node-redlock's defaults.
constexpr double kDriftFactor = 0.01;
constexpr milliseconds kDriftFloor{2};

// The lock's value: random per acquire, so a release can only delete its own lock.
class LockValues {
 public:
  LockValues() : rng_(std::random_device{}()), id_(rng_()) {}
  std::string Next() { return absl::StrFormat("%016x-%016x", id_, rng_()); }

 private:
  std::mt19937_64 rng_;
  const uint64_t id_;
};

// What one SET NX PX on every instance gave.
struct SetResult {
  int taken = 0, failed = 0;
  absl::Status error;  // the last failure
};

// Sends SET NX PX to every connection, then reads every reply.
SetResult SetOnAll(std::vector<std::unique_ptr<RedisConnection>>& conns, const std::string& key,
                   const std::string& value, milliseconds ttl) {
  SetResult r;
  std::vector<bool> sent(conns.size(), false);
  for (std::size_t i = 0; i < conns.size(); ++i) {
    absl::Status s = conns[i]->SendSet(key, value, ttl);
    sent[i] = s.ok();
    if (!s.ok()) {
      ++r.failed;
      r.error = s;
    }
  }
  for (std::size_t i = 0; i < conns.size(); ++i) {
    if (!sent[i]) continue;
    absl::StatusOr<bool> got = conns[i]->ReceiveBool();
    if (!got.ok()) {
      ++r.failed;
      r.error = got.status();
    }
    r.taken += got.ok() && *got;
  }
  return r;
}

// Sends the unlock script to every connection, then reads every reply.
absl::Status UnlockOnAll(std::vector<std::unique_ptr<RedisConnection>>& conns,
                         const std::string& key, const std::string& value) {
  absl::Status error;
  std::vector<bool> sent(conns.size(), false);
  for (std::size_t i = 0; i < conns.size(); ++i) {
    absl::Status s = conns[i]->SendUnlock(key, value);
    sent[i] = s.ok();
    if (!s.ok()) error = s;
  }
  for (std::size_t i = 0; i < conns.size(); ++i) {
    if (!sent[i]) continue;
    if (absl::StatusOr<bool> got = conns[i]->ReceiveBool(); !got.ok()) error = got.status();
  }
  return error;
}

// Both recipes: one connection per instance (one for "redis", three for "redlock").
class RedisLocker : public Locker {
 public:
  RedisLocker(std::vector<std::unique_ptr<RedisConnection>> conns, const LockOptions& options)
      : conns_(std::move(conns)), options_(options), backoff_(options) {}

  absl::Status Acquire(const std::string& resource, milliseconds wait) override {
    const Clock::time_point deadline = Clock::now() + wait;
    backoff_.Reset();
    while (true) {
      absl::StatusOr<bool> taken = TryOnce(resource, options_.ttl);
      if (!taken.ok()) return taken.status();
      if (*taken) return absl::OkStatus();
      const auto left = duration_cast<microseconds>(deadline - Clock::now());
      if (left.count() <= 0) return absl::DeadlineExceededError("lock held by another");
      std::this_thread::sleep_for(backoff_.Next(left));
    }
  }

  absl::Status Release() override { return UnlockOnAll(conns_, key_, value_); }

  absl::Status Hold(const std::string& resource, milliseconds ttl) override {
    absl::StatusOr<bool> taken = TryOnce(resource, ttl);
    if (!taken.ok()) return taken.status();
    return *taken ? absl::OkStatus() : absl::AbortedError("held by another");
  }

 private:
  // One attempt on every instance. With one instance, its answer; with several, Redlock's
  // rule (a majority within the validity time), unlocking everywhere if it failed.
  absl::StatusOr<bool> TryOnce(const std::string& resource, milliseconds ttl) {
    key_ = resource;
    value_ = values_.Next();
    const Clock::time_point start = Clock::now();
    const SetResult r = SetOnAll(conns_, key_, value_, ttl);
    if (conns_.size() == 1) {
      if (!r.error.ok()) return r.error;
      return r.taken == 1;
    }
    const auto drift = duration_cast<milliseconds>(ttl * kDriftFactor) + kDriftFloor;
    const auto validity = ttl - duration_cast<milliseconds>(Clock::now() - start) - drift;
    const int instances = static_cast<int>(conns_.size());
    const int majority = instances / 2 + 1;
    if (r.taken >= majority && validity.count() > 0) return true;
    if (r.taken > 0) UnlockOnAll(conns_, key_, value_).IgnoreError();
    // Failed instances, unlike refusals, can make a majority impossible: an error, not a wait.
    if (r.failed > instances - majority) return r.error;
    return false;
  }

  std::vector<std::unique_ptr<RedisConnection>> conns_;
  const LockOptions options_;
  Backoff backoff_;
  LockValues values_;
  std::string key_, value_;
};

class RedisClients : public Clients {
 public:
  RedisClients(std::vector<std::string> addresses, const LockOptions& options)
      : addresses_(std::move(addresses)), options_(options) {}
  absl::StatusOr<std::unique_ptr<Locker>> NewLocker() override {
    std::vector<std::unique_ptr<RedisConnection>> conns;
    for (const std::string& a : addresses_) {
      absl::StatusOr<std::unique_ptr<RedisConnection>> c = RedisConnection::Open(a);
      if (!c.ok()) return c.status();
      conns.push_back(*std::move(c));
    }
    return std::make_unique<RedisLocker>(std::move(conns), options_);
  }

 private:
  const std::vector<std::string> addresses_;
  const LockOptions options_;
};

absl::StatusOr<std::unique_ptr<Clients>> MakeClients(const std::string& endpoints,
                                                     const LockOptions& options,
                                                     std::size_t instances) {
  std::vector<std::string> addresses = absl::StrSplit(endpoints, ',', absl::SkipEmpty());
  if (addresses.size() != instances) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", instances, " redis addresses, got '", endpoints, "'"));
  }
  return std::make_unique<RedisClients>(std::move(addresses), options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Clients>> MakeRedisClients(const std::string& endpoints,
                                                          const LockOptions& options) {
  return MakeClients(endpoints, options, 1);
}

absl::StatusOr<std::unique_ptr<Clients>> MakeRedlockClients(const std::string& endpoints,
                                                            const LockOptions& options) {
  return MakeClients(endpoints, options, 3);
}

}  // namespace lockmesh::bench::comparison
