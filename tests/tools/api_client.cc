#include "tests/tools/api_client.h"

#include <poll.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/http.hpp>

namespace lockmesh::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::string Reply::ErrorCode() const {
  absl::StatusOr<tools::JsonValue> v = Json();
  if (!v.ok() || !v->is_object()) return "";
  const tools::JsonValue* e = v->Find("error");
  if (e == nullptr || !e->is_object() || e->Find("code") == nullptr) return "";
  return e->Find("code")->string();
}

std::unique_ptr<ApiClient> ApiClient::Unix(const std::string& path) {
  std::unique_ptr<ApiClient> c(new ApiClient());
  const asio::generic::stream_protocol::endpoint ep(asio::local::stream_protocol::endpoint{path});
  c->socket_.open(ep.protocol(), c->error_);
  if (!c->error_) c->socket_.connect(ep, c->error_);
  return c;
}

std::unique_ptr<ApiClient> ApiClient::Tcp(const std::string& address) {
  std::unique_ptr<ApiClient> c(new ApiClient());
  const std::size_t colon = address.rfind(':');
  const asio::generic::stream_protocol::endpoint ep(
      asio::ip::tcp::endpoint(asio::ip::make_address(address.substr(0, colon)),
                              static_cast<uint16_t>(std::stoi(address.substr(colon + 1)))));
  c->socket_.open(ep.protocol(), c->error_);
  if (!c->error_) c->socket_.connect(ep, c->error_);
  return c;
}

void ApiClient::Send(std::string_view method, std::string_view target, std::string_view body) {
  http::request<http::string_body> req(
      http::string_to_verb(boost::beast::string_view(method.data(), method.size())),
      boost::beast::string_view(target.data(), target.size()), 11);
  req.set(http::field::host, "lockmesh");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::string(body);
  req.prepare_payload();
  http::write(socket_, req, error_);
}

bool ApiClient::ReplyReady(std::chrono::milliseconds bound) {
  if (buffer_.size() > 0) return true;
  pollfd p{socket_.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(bound.count())) > 0;
}

Reply ApiClient::Receive() {
  Reply reply;
  if (error_) return reply;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 24);
  http::read(socket_, buffer_, parser, error_);
  if (error_) return reply;
  const auto& res = parser.get();
  reply.status = res.result_int();
  reply.content_type = std::string(res[http::field::content_type]);
  reply.body = res.body();
  return reply;
}

Reply ApiClient::Call(std::string_view method, std::string_view target, std::string_view body) {
  Send(method, target, body);
  return Receive();
}

void ApiClient::Close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace lockmesh::testing
