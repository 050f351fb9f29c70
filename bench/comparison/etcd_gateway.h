// File: bench/comparison/etcd_gateway.h
//
// A client of one etcd v3.4 member through its gRPC gateway: the v3 API as JSON over
// HTTP/1.1 on the client port (keys, values and ranges base64, 64-bit integers as decimal
// strings, fields at their default value left out). Debian ships no etcd C++ client, so the
// bench speaks the gateway.
//
//   EtcdGateway member("127.0.0.1", 2379);
//   absl::StatusOr<Json> r = member.Call("/v3/kv/range", R"({"key":"Zm9v"})", deadline);
//   int64_t revision = JsonInt(*r, "header.revision");
//   absl::Status s = member.WaitDelete("Zm9v", revision, deadline);  // key already base64
//
// Connections: Call sends every unary request over ONE persistent keep-alive connection
// (reconnected once if the member closed it while idle). A watch is a streaming response
// that a HTTP/1.1 client cannot cancel without closing its connection (etcd 3.4 is built
// with Go 1.19, whose HTTP/1 server cannot read a request body after it started the
// response, so no cancel_request can follow the create_request), so WaitDelete opens a
// second connection for each wait and closes it when the delete arrives, which ends the
// watch on the server. Only a contended Acquire waits, so uncontended cycles use one
// connection.
//
// Calls block the caller; under the hood they are Beast's asynchronous operations run on a
// private io_context so that each has a deadline (Beast's synchronous calls have none).
//
// Not thread-safe: one EtcdGateway per thread (each Locker and the keep-alive thread own
// one).
#pragma once

// clang-format off: Boost 1.74's asio headers need <utility> first under GCC 12 in C++20.
#include <utility>
// clang-format on

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/property_tree/ptree.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lockmesh::bench::comparison {

// A parsed JSON reply. Arrays are children with empty names, numbers and booleans strings.
using Json = boost::property_tree::ptree;

// The integer at dotted `path` ("header.revision"); 0 when the gateway left it out (its
// default) or it is not a number.
int64_t JsonInt(const Json& json, const std::string& path);
// The subtree at dotted `path`, or an empty tree (which outlives the call) if there is none.
const Json& JsonChild(const Json& json, const std::string& path);

class EtcdGateway {
 public:
  EtcdGateway(std::string host, uint16_t port);
  ~EtcdGateway();
  EtcdGateway(const EtcdGateway&) = delete;
  EtcdGateway& operator=(const EtcdGateway&) = delete;

  // POSTs `body` (JSON) to `path` ("/v3/kv/txn") and parses the reply. Errors:
  // DeadlineExceeded if `deadline` passed first (the request may have been applied),
  // Unavailable if the member could not be reached or answered with an HTTP error (its text
  // in the message), Internal if the reply was not JSON.
  absl::StatusOr<Json> Call(absl::string_view path, const std::string& body,
                            std::chrono::steady_clock::time_point deadline);

  // Watches `key_base64` from `start_revision` on a connection of its own and returns when
  // an event deleting it arrives (OK), or DeadlineExceeded at `deadline`, or Unavailable if
  // the member or the watch failed (compacted revision, canceled watch).
  absl::Status WaitDelete(const std::string& key_base64, int64_t start_revision,
                          std::chrono::steady_clock::time_point deadline);

 private:
  // Opens `stream` to the member before `deadline`.
  boost::system::error_code Connect(boost::beast::tcp_stream& stream,
                                    std::chrono::steady_clock::time_point deadline);
  // One request and its whole reply on the kept-alive connection; the reply body.
  absl::StatusOr<std::string> Exchange(absl::string_view path, const std::string& body,
                                       std::chrono::steady_clock::time_point deadline);
  // Runs the asynchronous operation `start` begins until it completes; its error.
  template <typename Start>
  boost::system::error_code Run(Start&& start);

  std::string host_;
  uint16_t port_;
  boost::asio::io_context io_;
  std::optional<boost::beast::tcp_stream> connection_;  // the kept-alive one; none yet
  boost::beast::flat_buffer buffer_;                    // bytes read past the last reply
};

}  // namespace lockmesh::bench::comparison
