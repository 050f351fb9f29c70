#include "bench/comparison/etcd_gateway.h"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/property_tree/json_parser.hpp>
#include <limits>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace lockmesh::bench::comparison {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// A reply larger than this is an error; the recipe's ranges have a limit of one key.
constexpr std::uint64_t kReplyBytesMax = 1 << 20;

absl::StatusOr<Json> ParseJson(const std::string& text) {
  Json json;
  std::istringstream in(text);
  try {
    boost::property_tree::read_json(in, json);
  } catch (const boost::property_tree::json_parser_error& e) {
    return absl::InternalError(absl::StrCat("etcd gateway reply is not JSON: ", e.what()));
  }
  return json;
}

absl::Status TransportError(absl::string_view what, boost::system::error_code ec) {
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(absl::StrCat("etcd ", what, ": deadline passed"));
  }
  return absl::UnavailableError(absl::StrCat("etcd ", what, ": ", ec.message()));
}

http::request<http::string_body> Post(absl::string_view path, const std::string& host,
                                      const std::string& body) {
  http::request<http::string_body> req{http::verb::post, std::string(path), 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  return req;
}

}  // namespace

int64_t JsonInt(const Json& json, const std::string& path) {
  const auto text = json.get_optional<std::string>(path);
  int64_t value = 0;
  if (!text || !absl::SimpleAtoi(*text, &value)) return 0;
  return value;
}

const Json& JsonChild(const Json& json, const std::string& path) {
  static const Json kEmpty;
  const auto child = json.get_child_optional(path);
  return child ? *child : kEmpty;
}

EtcdGateway::EtcdGateway(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}

EtcdGateway::~EtcdGateway() = default;

template <typename Start>
boost::system::error_code EtcdGateway::Run(Start&& start) {
  boost::system::error_code result = asio::error::would_block;
  start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
  io_.restart();
  io_.run();
  return result;
}

boost::system::error_code EtcdGateway::Connect(beast::tcp_stream& stream,
                                               Clock::time_point deadline) {
  stream.expires_at(deadline);
  const asio::ip::tcp::endpoint member(asio::ip::make_address(host_), port_);
  boost::system::error_code ec = Run([&](auto handler) { stream.async_connect(member, handler); });
  if (!ec) stream.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  return ec;
}

absl::StatusOr<std::string> EtcdGateway::Exchange(absl::string_view path, const std::string& body,
                                                  Clock::time_point deadline) {
  for (int attempt = 0;; ++attempt) {
    const bool reused = connection_.has_value();
    if (!reused) {
      connection_.emplace(io_);
      buffer_.clear();
      if (boost::system::error_code ec = Connect(*connection_, deadline)) {
        connection_.reset();
        return TransportError(path, ec);
      }
    }
    http::request<http::string_body> req = Post(path, host_, body);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kReplyBytesMax);
    connection_->expires_at(deadline);
    boost::system::error_code ec =
        Run([&](auto handler) { http::async_write(*connection_, req, handler); });
    if (!ec) {
      ec = Run([&](auto handler) { http::async_read(*connection_, buffer_, parser, handler); });
    }
    if (ec) {
      connection_.reset();
      // A kept-alive connection the member closed while idle fails at once; one retry on a
      // new connection. Every request the recipe sends may be repeated (the txn creates
      // only if absent, deletes are idempotent, a second lease grant expires unused).
      if (reused && attempt == 0 && ec != beast::error::timeout) continue;
      return TransportError(path, ec);
    }
    http::response<http::string_body> res = parser.release();
    if (!res.keep_alive()) connection_.reset();
    if (res.result() != http::status::ok) {
      return absl::UnavailableError(
          absl::StrCat("etcd ", path, ": HTTP ", res.result_int(), " ", res.body()));
    }
    return std::move(res.body());
  }
}

absl::StatusOr<Json> EtcdGateway::Call(absl::string_view path, const std::string& body,
                                       Clock::time_point deadline) {
  absl::StatusOr<std::string> reply = Exchange(path, body, deadline);
  if (!reply.ok()) return reply.status();
  return ParseJson(*reply);
}

absl::Status EtcdGateway::WaitDelete(const std::string& key_base64, int64_t start_revision,
                                     Clock::time_point deadline) {
  beast::tcp_stream watch(io_);
  if (boost::system::error_code ec = Connect(watch, deadline)) return TransportError("watch", ec);
  const std::string body = absl::StrCat(R"({"create_request":{"key":")", key_base64,
                                        R"(","start_revision":")", start_revision, R"("}})");
  http::request<http::string_body> req = Post("/v3/watch", host_, body);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // consumed line by line
  watch.expires_at(deadline);
  boost::system::error_code ec = Run([&](auto handler) { http::async_write(watch, req, handler); });
  if (!ec) ec = Run([&](auto handler) { http::async_read_header(watch, buffer, parser, handler); });
  if (ec) return TransportError("watch", ec);
  if (parser.get().result() != http::status::ok) {
    return absl::UnavailableError(absl::StrCat("etcd watch: HTTP ", parser.get().result_int()));
  }
  // The gateway writes each WatchResponse as {"result":{...}} and a newline, and flushes.
  // The string body only appends, so the lines read are cut from its front.
  std::string& stream = parser.get().body();
  while (true) {
    for (std::size_t eol; (eol = stream.find('\n')) != std::string::npos;) {
      absl::StatusOr<Json> message = ParseJson(stream.substr(0, eol));
      stream.erase(0, eol + 1);
      if (!message.ok()) return message.status();
      if (message->get_child_optional("error")) {
        return absl::UnavailableError(
            absl::StrCat("etcd watch: ", message->get<std::string>("error.message", "error")));
      }
      const Json& result = JsonChild(*message, "result");
      if (result.get<std::string>("canceled", "false") == "true") {
        return absl::UnavailableError(
            absl::StrCat("etcd watch canceled: ", result.get<std::string>("cancel_reason", ""),
                         " compact_revision=", JsonInt(result, "compact_revision")));
      }
      for (const auto& [_, event] : JsonChild(result, "events")) {
        if (event.get<std::string>("type", "PUT") == "DELETE") return absl::OkStatus();
      }
    }
    if (parser.is_done()) return absl::UnavailableError("etcd watch: the stream ended");
    ec = Run([&](auto handler) { http::async_read_some(watch, buffer, parser, handler); });
    if (ec) return TransportError("watch", ec);
  }
}

}  // namespace lockmesh::bench::comparison
