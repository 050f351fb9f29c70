// File: bench/comparison/redis_connection.h
//
// One hiredis connection as the Redis and Redlock recipes use it: the lock commands
// (SET key value NX PX ttl; the compare-and-delete script by EVALSHA), each split into a
// send and a receive so that Redlock can have a command in flight on every instance at once,
// the way redsync and node-redlock send them concurrently.
//
//   absl::StatusOr<std::unique_ptr<RedisConnection>> c = RedisConnection::Open("127.0.0.1:6379");
//   (*c)->SendSet("r/1", value, ttl);
//   absl::StatusOr<bool> got = (*c)->ReceiveBool();    // true: the key was set (lock taken)
//   (*c)->SendUnlock("r/1", value);
//   absl::StatusOr<bool> freed = (*c)->ReceiveBool();  // true: it was ours and is gone
//
// Used by one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct redisContext;

namespace lockmesh::bench::comparison {

// Deletes KEYS[1] only if it still holds ARGV[1]: the release half of the recipe
// (redis.io "Distributed Locks with Redis"), so a holder whose key expired and was taken by
// another cannot delete the other's lock.
inline constexpr const char* kUnlockScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
    "else return 0 end";

class RedisConnection {
 public:
  // Connects over TCP to "ip:port" and loads the unlock script (SCRIPT LOAD).
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Open(const std::string& address);
  ~RedisConnection();

  // Queues and sends SET key value NX PX ttl.
  absl::Status SendSet(const std::string& key, const std::string& value,
                       std::chrono::milliseconds ttl);
  // Queues and sends EVALSHA <unlock> 1 key value.
  absl::Status SendUnlock(const std::string& key, const std::string& value);
  // The reply to the oldest command sent: true for OK or a positive integer, false for nil
  // or 0; an error status for an error reply or a broken connection.
  absl::StatusOr<bool> ReceiveBool();
  // PING and its reply: for readiness.
  absl::Status Ping();

 private:
  explicit RedisConnection(redisContext* c) : c_(c) {}
  absl::Status Flush();

  redisContext* c_;
  std::string unlock_sha_;
};

}  // namespace lockmesh::bench::comparison
