// A small blocking HTTP/1.1 client (Boost.Beast) for the daemon's tests: one keep-alive
// connection over a Unix socket or loopback TCP.
//
//   ApiClient c = ApiClient::Unix(path);
//   Reply r = c.Call("POST", "/v1/acquire", R"({"resource": "a"})");
//   EXPECT_EQ(r.status, 200) << r.body;
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tools/http/json.h"

namespace lockmesh::testing {

struct Reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  // The body parsed (InvalidArgument if it is not JSON).
  absl::StatusOr<tools::JsonValue> Json() const { return tools::ParseJson(body); }
  // The error code of an error body ("" if none).
  std::string ErrorCode() const;
};

class ApiClient {
 public:
  // Connects; the error (e.g. EACCES) is in error() when it could not.
  static std::unique_ptr<ApiClient> Unix(const std::string& path);
  static std::unique_ptr<ApiClient> Tcp(const std::string& address);

  const boost::system::error_code& error() const { return error_; }
  bool connected() const { return !error_ && socket_.is_open(); }

  // Sends one request and reads its reply (status 0 if the connection failed).
  Reply Call(std::string_view method, std::string_view target, std::string_view body = "");
  // The two halves, for requests that wait (long-poll).
  void Send(std::string_view method, std::string_view target, std::string_view body = "");
  // True if a reply (or the end of the connection) is ready within `bound`.
  bool ReplyReady(std::chrono::milliseconds bound);
  Reply Receive();
  void Close();

 private:
  ApiClient() : socket_(io_) {}
  boost::asio::io_context io_;
  boost::asio::generic::stream_protocol::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::system::error_code error_;
};

}  // namespace lockmesh::testing
