// File: tools/cli/api_client.h
//
// One keep-alive HTTP/1.1 connection to a node's local lock API (docs/local-api.md) over its
// Unix socket, with Boost.Beast. The connection matters: leases taken through it are the
// node's to release when it closes, so `lockmesh run` keeps one client for the command's life.
//
//   absl::StatusOr<std::string> path = FindSocket(flag_value);
//   absl::StatusOr<std::unique_ptr<ApiClient>> api = ApiClient::Connect(*path);
//   absl::StatusOr<tools::JsonValue> lease = (*api)->Call(http::verb::post, "/v1/acquire", body,
//   timeout);
//
// Failures carry their exit code (failure.h): no socket or refused 69, permission 77, a
// call not answered within its timeout or a broken connection 69, a malformed answer 76,
// an error answer by FromHttp().
//
// Thread safety: one thread at a time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/http/json.h"

namespace lockmesh::cli {

// One answer of the node's API as JSON. The answer's size (kCliResponseBytesMax) already
// bounds how many members or elements it can hold, so only nesting has a bound of its own.
absl::StatusOr<tools::JsonValue> ParseAnswer(absl::string_view text);

// The socket to use: `flag` if set, else $LOCKMESH_SOCKET, else the only *.sock in
// `run_dir` (usage error if there are several, node not running if none).
absl::StatusOr<std::string> FindSocket(const std::string& flag,
                                       const std::string& run_dir = "/run/lockmesh");

class ApiClient {
 public:
  static absl::StatusOr<std::unique_ptr<ApiClient>> Connect(const std::string& path);

  // Sends one request (`body` as JSON when not empty) and reads the answer within `timeout`.
  // A 2xx answer's body parsed as JSON; an error answer as FromHttp() maps it.
  absl::StatusOr<tools::JsonValue> Call(boost::beast::http::verb method, absl::string_view target,
                                        std::string body, std::chrono::milliseconds timeout);
  // The same, the 2xx body as raw text (for --json output).
  absl::StatusOr<std::string> CallText(boost::beast::http::verb method, absl::string_view target,
                                       std::string body, std::chrono::milliseconds timeout);

 private:
  ApiClient(std::string path) : path_(std::move(path)), socket_(io_) {}

  std::string path_;
  boost::asio::io_context io_;
  boost::asio::local::stream_protocol::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// "%XX"-escapes `s` for a query string.
std::string UrlEncode(absl::string_view s);

}  // namespace lockmesh::cli
