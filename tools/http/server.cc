#include "tools/http/server.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/http/json.h"
#include "tools/limits.h"

namespace lockmesh::tools::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

std::string ErrorBody(absl::string_view code, absl::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Key("code").String(code).Key("message").String(message);
  w.EndObject().EndObject();
  return std::move(w).Take();
}

// The accept loop and the open connections of one listening socket, either protocol.
struct Server::Listener {
  virtual ~Listener() = default;
  virtual void Close() = 0;
};

namespace {

// A read that watches a connection while its request waits is this large.
constexpr std::size_t kWatchBytes = 512;

template <typename Protocol>
class Connection;

template <typename Protocol>
class ListenerOf : public Server::Listener,
                   public std::enable_shared_from_this<ListenerOf<Protocol>> {
 public:
  ListenerOf(typename Protocol::acceptor acceptor, SessionFactory sessions, ServerLimits limits,
             std::string unlink_path)
      : acceptor_(std::move(acceptor)),
        sessions_(std::move(sessions)),
        limits_(limits),
        unlink_path_(std::move(unlink_path)) {}

  void Accept() {
    acceptor_.async_accept(
        [self = this->shared_from_this()](error_code ec, typename Protocol::socket socket) {
          if (ec) {
            if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
          } else {
            self->Admit(std::move(socket));
          }
          self->Accept();
        });
  }

  void Close() override {
    if (!acceptor_.is_open()) return;
    error_code ignored;
    acceptor_.close(ignored);
    if (!unlink_path_.empty()) ::unlink(unlink_path_.c_str());
    // Copied: closing a connection erases it from the set.
    std::set<std::shared_ptr<Connection<Protocol>>> open = connections_;
    for (const auto& c : open) c->Close();
  }

  void Forget(const std::shared_ptr<Connection<Protocol>>& c) { connections_.erase(c); }
  const ServerLimits& limits() const { return limits_; }

 private:
  void Admit(typename Protocol::socket socket);

  typename Protocol::acceptor acceptor_;
  SessionFactory sessions_;
  ServerLimits limits_;
  std::string unlink_path_;
  uint64_t next_id_ = 1;
  std::set<std::shared_ptr<Connection<Protocol>>> connections_;
};

template <typename Protocol>
class Connection : public std::enable_shared_from_this<Connection<Protocol>> {
 public:
  Connection(typename Protocol::socket socket, std::weak_ptr<ListenerOf<Protocol>> listener,
             std::size_t body_bytes_max)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        listener_(std::move(listener)),
        body_bytes_max_(body_bytes_max) {}

  void Start(std::unique_ptr<Session> session) {
    session_ = std::move(session);
    ReadRequest();
  }

  // Closes the socket and destroys the Session (giving back what it holds).
  void Close() {
    if (!open_) return;
    open_ = false;
    error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
    std::unique_ptr<Session> session = std::move(session_);
    session.reset();
    if (auto l = listener_.lock()) l->Forget(this->shared_from_this());
  }

 private:
  void ReadRequest() {
    if (!open_) return;
    timer_.expires_after(std::chrono::milliseconds(kHttpIdleMsMax));
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec) self->Close();
    });
    if (watching_) {  // the watch read is out: it carries on with the next request
      want_request_ = true;
      return;
    }
    parser_.emplace();
    parser_->header_limit(kHttpHeaderBytesMax);
    parser_->body_limit(body_bytes_max_);
    bhttp::async_read(
        socket_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->OnRequest(ec); });
  }

  void OnRequest(error_code ec) {
    timer_.cancel();
    if (!open_) return;
    if (ec == bhttp::error::body_limit) {
      return Fail(413, "INVALID_ARGUMENT",
                  absl::StrCat("request body over ", body_bytes_max_, " bytes"));
    }
    if (ec == bhttp::error::header_limit) {
      return Fail(431, "INVALID_ARGUMENT",
                  absl::StrCat("request header over ", kHttpHeaderBytesMax, " bytes"));
    }
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec) return Fail(400, "INVALID_ARGUMENT", absl::StrCat("bad HTTP request: ", ec.message()));
    request_ = parser_->release();
    keep_alive_ = request_.keep_alive();
    const uint64_t seq = ++seq_;
    pending_ = true;
    Respond respond = [weak = this->weak_from_this(), seq,
                       ex = socket_.get_executor()](Response response) {
      asio::post(ex, [weak, seq, response = std::move(response)]() mutable {
        if (auto self = weak.lock()) self->Answer(seq, std::move(response));
      });
    };
    session_->Handle(request_, std::move(respond));
    Watch();
  }

  // While a request waits, a read notices the client going away (and keeps what it sent).
  void Watch() {
    if (!open_ || watching_ || buffer_.size() > kHttpHeaderBytesMax + body_bytes_max_) return;
    watching_ = true;
    socket_.async_read_some(buffer_.prepare(kWatchBytes),
                            [self = this->shared_from_this()](error_code ec, std::size_t n) {
                              self->watching_ = false;
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              if (self->want_request_) {
                                self->want_request_ = false;
                                self->ReadRequest();
                              } else if (self->pending_) {
                                self->Watch();
                              }
                            });
  }

  void Answer(uint64_t seq, Response response) {
    if (!open_ || !pending_ || seq != seq_) return;
    pending_ = false;
    Write(std::move(response), keep_alive_);
  }

  // Answers a request the server itself refuses, then closes: what follows it is unknown.
  void Fail(unsigned status, absl::string_view code, absl::string_view message) {
    Write({.status = status, .body = ErrorBody(code, message)}, false);
  }

  void Write(Response response, bool keep_alive) {
    response_.emplace(static_cast<bhttp::status>(response.status), 11);
    response_->set(bhttp::field::server, "lockmesh-node");
    response_->set(bhttp::field::content_type, response.content_type);
    response_->body() = std::move(response.body);
    response_->keep_alive(keep_alive);
    response_->prepare_payload();
    bhttp::async_write(socket_, *response_,
                       [self = this->shared_from_this(), keep_alive](error_code ec, std::size_t) {
                         if (ec) return self->Close();
                         if (!keep_alive) return self->Linger();
                         self->ReadRequest();
                       });
  }

  // Before closing after a response, reads and drops what the client still sends (e.g. the
  // rest of an oversize body) for a bounded time: closing with unread bytes would reset the
  // connection and could destroy the response before the client read it.
  void Linger() {
    error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_send, ignored);
    timer_.expires_after(std::chrono::milliseconds(kHttpLingerMs));
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec) self->Close();
    });
    Drain();
  }
  void Drain() {
    socket_.async_read_some(asio::buffer(discard_),
                            [self = this->shared_from_this()](error_code ec, std::size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }

  typename Protocol::socket socket_;
  asio::steady_timer timer_;
  std::weak_ptr<ListenerOf<Protocol>> listener_;
  std::size_t body_bytes_max_;
  std::unique_ptr<Session> session_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  bool open_ = true;
  bool keep_alive_ = true;
  bool pending_ = false;
  bool watching_ = false;
  bool want_request_ = false;
  uint64_t seq_ = 0;
  std::array<char, kWatchBytes> discard_;
};

template <typename Protocol>
void ListenerOf<Protocol>::Admit(typename Protocol::socket socket) {
  if (static_cast<int>(connections_.size()) >= limits_.connections_max) {
    // Answered and closed; the socket lives in the handler until the write ends.
    auto s = std::make_shared<typename Protocol::socket>(std::move(socket));
    auto text = std::make_shared<std::string>();
    const std::string body =
        ErrorBody("UNAVAILABLE", absl::StrCat("over ", limits_.connections_max, " connections"));
    *text = absl::StrCat(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Connection: close\r\nContent-Length: ",
        body.size(), "\r\n\r\n", body);
    asio::async_write(*s, asio::buffer(*text), [s, text](error_code, std::size_t) {
      error_code ignored;
      s->close(ignored);
    });
    return;
  }
  auto c = std::make_shared<Connection<Protocol>>(std::move(socket), this->weak_from_this(),
                                                  limits_.body_bytes_max);
  connections_.insert(c);
  c->Start(sessions_(next_id_++));
}

}  // namespace

Server::~Server() { Close(); }

void Server::Close() {
  if (listener_) listener_->Close();
}

absl::StatusOr<std::unique_ptr<Server>> Server::ListenTcp(asio::io_context& io,
                                                          const std::string& address,
                                                          SessionFactory sessions,
                                                          ServerLimits limits) {
  const std::size_t colon = address.rfind(':');
  uint32_t port = 0;
  error_code ec;
  asio::ip::address ip;
  if (colon != std::string::npos) ip = asio::ip::make_address(address.substr(0, colon), ec);
  if (colon == std::string::npos || ec || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad HTTP address \"", address, "\": want ip:port, e.g. 127.0.0.1:9464"));
  }
  asio::ip::tcp::acceptor acceptor(io);
  const asio::ip::tcp::endpoint endpoint(ip, static_cast<uint16_t>(port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, ": ", ec.message()));
  }
  const auto bound = acceptor.local_endpoint();
  auto listener = std::make_shared<ListenerOf<asio::ip::tcp>>(std::move(acceptor),
                                                              std::move(sessions), limits, "");
  listener->Accept();
  return std::unique_ptr<Server>(
      new Server(listener, absl::StrCat(bound.address().to_string(), ":", bound.port())));
}

absl::StatusOr<std::unique_ptr<Server>> Server::ListenUnix(asio::io_context& io,
                                                           const std::string& path,
                                                           const SocketAccess& access,
                                                           SessionFactory sessions,
                                                           ServerLimits limits) {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!access.owner.empty()) {
    const passwd* pw = ::getpwnam(access.owner.c_str());
    if (pw == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown user \"", access.owner, "\""));
    }
    uid = pw->pw_uid;
  }
  if (!access.group.empty()) {
    const group* gr = ::getgrnam(access.group.c_str());
    if (gr == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown group \"", access.group, "\""));
    }
    gid = gr->gr_gid;
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", path, ": a file that is not a socket is there"));
    }
    ::unlink(path.c_str());  // a socket left by an earlier run
  }
  using Local = asio::local::stream_protocol;
  Local::acceptor acceptor(io);
  error_code ec;
  acceptor.open(Local(), ec);
  // The socket file is created by bind with the umask's mode: 0660 from its first instant.
  const mode_t old_mask = ::umask(0117);
  if (!ec) acceptor.bind(Local::endpoint(path), ec);
  ::umask(old_mask);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", path, ": ", ec.message()));
  }
  if (::chmod(path.c_str(), 0660) != 0 ||
      ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
       ::chown(path.c_str(), uid, gid) != 0)) {
    const std::string why = std::strerror(errno);
    ::unlink(path.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot set the owner or mode of ", path, ": ", why));
  }
  auto listener =
      std::make_shared<ListenerOf<Local>>(std::move(acceptor), std::move(sessions), limits, path);
  listener->Accept();
  return std::unique_ptr<Server>(new Server(listener, path));
}

}  // namespace lockmesh::tools::http
