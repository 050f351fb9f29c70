#include "bench/comparison/redis_connection.h"

#include <hiredis/hiredis.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace lockmesh::bench::comparison {
namespace {

// Frees a reply on every way out.
struct ReplyPtr {
  redisReply* r = nullptr;
  ~ReplyPtr() {
    if (r != nullptr) freeReplyObject(r);
  }
};

absl::Status ContextError(redisContext* c, const char* what) {
  return absl::UnavailableError(absl::StrCat("redis ", what, ": ", c->errstr));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Open(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError("bad redis address " + address);
  }
  redisContext* c = redisConnect(address.substr(0, colon).c_str(), port);
  if (c == nullptr) return absl::ResourceExhaustedError("redisConnect: out of memory");
  if (c->err != 0) {
    absl::Status s = ContextError(c, "connect");
    redisFree(c);
    return s;
  }
  std::unique_ptr<RedisConnection> conn(new RedisConnection(c));
  // hiredis sets TCP_NODELAY on every TCP connect itself (net.c), so Nagle delays nothing.
  ReplyPtr reply{static_cast<redisReply*>(redisCommand(c, "SCRIPT LOAD %s", kUnlockScript))};
  if (reply.r == nullptr) return ContextError(c, "SCRIPT LOAD");
  if (reply.r->type != REDIS_REPLY_STRING) {
    return absl::InternalError("SCRIPT LOAD did not return a SHA1");
  }
  conn->unlock_sha_.assign(reply.r->str, reply.r->len);
  return conn;
}

RedisConnection::~RedisConnection() { redisFree(c_); }

absl::Status RedisConnection::Flush() {
  int done = 0;
  while (!done) {
    if (redisBufferWrite(c_, &done) != REDIS_OK) return ContextError(c_, "write");
  }
  return absl::OkStatus();
}

absl::Status RedisConnection::SendSet(const std::string& key, const std::string& value,
                                      std::chrono::milliseconds ttl) {
  const std::string px = absl::StrCat(ttl.count());
  if (redisAppendCommand(c_, "SET %b %b NX PX %s", key.data(), key.size(), value.data(),
                         value.size(), px.c_str()) != REDIS_OK) {
    return ContextError(c_, "SET");
  }
  return Flush();
}

absl::Status RedisConnection::SendUnlock(const std::string& key, const std::string& value) {
  if (redisAppendCommand(c_, "EVALSHA %s 1 %b %b", unlock_sha_.c_str(), key.data(), key.size(),
                         value.data(), value.size()) != REDIS_OK) {
    return ContextError(c_, "EVALSHA");
  }
  return Flush();
}

absl::StatusOr<bool> RedisConnection::ReceiveBool() {
  ReplyPtr reply;
  if (redisGetReply(c_, reinterpret_cast<void**>(&reply.r)) != REDIS_OK || reply.r == nullptr) {
    return ContextError(c_, "reply");
  }
  switch (reply.r->type) {
    case REDIS_REPLY_STATUS:
      return std::string_view(reply.r->str, reply.r->len) == "OK";
    case REDIS_REPLY_INTEGER:
      return reply.r->integer > 0;
    case REDIS_REPLY_NIL:
      return false;
    case REDIS_REPLY_ERROR:
      return absl::InternalError(absl::StrCat("redis: ", std::string(reply.r->str, reply.r->len)));
    default:
      return absl::InternalError(absl::StrCat("redis: unexpected reply type ", reply.r->type));
  }
}

absl::Status RedisConnection::Ping() {
  ReplyPtr reply{static_cast<redisReply*>(redisCommand(c_, "PING"))};
  if (reply.r == nullptr) return ContextError(c_, "PING");
  return absl::OkStatus();
}

}  // namespace lockmesh::bench::comparison
