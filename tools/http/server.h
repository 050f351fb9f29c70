// File: tools/http/server.h
//
// A small HTTP/1.1 server (Boost.Beast) for the node's endpoints: on a loopback TCP address
// (/metrics, /status) or on a Unix stream socket (the local lock API). Keep-alive, one
// request at a time per connection, bounded headers, bodies and connections
// (tools/limits.h). Each connection has a Session that lives exactly as long as the
// connection, so what a client takes through a connection can be given back when it goes.
//
//   boost::asio::io_context io;
//   auto server = Server::ListenTcp(io, "127.0.0.1:9464", [](uint64_t) {
//     return std::make_unique<MySession>();
//   });
//   io.run();
//
// A request that waits (a long poll) keeps reading the socket meanwhile: when the client
// closes the connection, the Session is destroyed at once, before any response.
//
// Thread safety: a Server and its Sessions belong to one io_context, which one thread runs.
// Create, Close and destroy the Server on that thread (or before/after it runs).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lockmesh::tools::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Answers a request once. May be called from within Handle or later, from any thread (it
// posts to the server's io_context); after the connection closed it does nothing.
using Respond = std::function<void(Response)>;

// One connection's handler; destroyed when the connection closes (by the client, an error,
// a timeout, or Server::Close).
class Session {
 public:
  virtual ~Session() = default;
  // Called on the io thread. The next request is read only after `respond` was called.
  virtual void Handle(const Request& request, Respond respond) = 0;
};

// Makes the Session of a new connection; `connection_id` counts connections from 1.
using SessionFactory = std::function<std::unique_ptr<Session>(uint64_t connection_id)>;

struct ServerLimits {
  std::size_t body_bytes_max;
  int connections_max;
};

// Who may open a Unix socket: mode 0660, owner and group by name (empty: the process's).
struct SocketAccess {
  std::string owner;
  std::string group;
};

class Server {
 public:
  // Listens on "ip:port" (port 0 picks one). Unavailable if it cannot bind, InvalidArgument
  // for a malformed address.
  static absl::StatusOr<std::unique_ptr<Server>> ListenTcp(boost::asio::io_context& io,
                                                           const std::string& address,
                                                           SessionFactory sessions,
                                                           ServerLimits limits);
  // Listens on a Unix stream socket at `path`, replacing a stale socket file there (never
  // another kind of file), with mode 0660 and `access`'s owner and group. InvalidArgument
  // for an unknown user or group, Unavailable if it cannot bind or set them.
  static absl::StatusOr<std::unique_ptr<Server>> ListenUnix(boost::asio::io_context& io,
                                                            const std::string& path,
                                                            const SocketAccess& access,
                                                            SessionFactory sessions,
                                                            ServerLimits limits);
  ~Server();

  // "ip:port" as bound, or the socket's path.
  const std::string& address() const { return address_; }
  // Stops accepting, closes every connection (destroying its Session) and removes the
  // socket file. Idempotent.
  void Close();

  struct Listener;

 private:
  Server(std::shared_ptr<Listener> listener, std::string address)
      : listener_(std::move(listener)), address_(std::move(address)) {}

  std::shared_ptr<Listener> listener_;
  std::string address_;
};

// The reason phrase's JSON error body used by the server itself and by handlers:
// {"error": {"code": CODE, "message": MESSAGE}}.
std::string ErrorBody(absl::string_view code, absl::string_view message);

}  // namespace lockmesh::tools::http
