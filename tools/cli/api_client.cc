#include "tools/cli/api_client.h"

#include <dirent.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/cli/failure.h"
#include "tools/limits.h"

namespace lockmesh::cli {

absl::StatusOr<tools::JsonValue> ParseAnswer(absl::string_view text) {
  return tools::ParseJson(text,
                          tools::JsonLimits{tools::kCliJsonDepthMax, tools::kCliResponseBytesMax});
}
namespace http = boost::beast::http;
using stream = boost::asio::local::stream_protocol;

absl::StatusOr<std::string> FindSocket(const std::string& flag, const std::string& run_dir) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("LOCKMESH_SOCKET"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  DIR* dir = ::opendir(run_dir.c_str());
  if (dir == nullptr) {
    if (errno == EACCES) {
      return Fail(kExitPermission, absl::StrCat("permission denied reading ", run_dir,
                                                "; pass the node's socket with --socket"));
    }
    return Fail(kExitNodeNotRunning, absl::StrCat("node not running: no ", run_dir,
                                                  " (start lockmesh-node, or pass --socket)"));
  }
  std::vector<std::string> found;
  while (const dirent* e = ::readdir(dir)) {
    if (absl::EndsWith(e->d_name, ".sock")) found.push_back(e->d_name);
  }
  ::closedir(dir);
  if (found.empty()) {
    return Fail(kExitNodeNotRunning,
                absl::StrCat("node not running: no socket in ", run_dir, " (or pass --socket)"));
  }
  if (found.size() > 1) {
    return Fail(kExitUsage, absl::StrCat("several node sockets in ", run_dir, " (",
                                         absl::StrJoin(found, ", "), "): pick one with --socket"));
  }
  return absl::StrCat(run_dir, "/", found[0]);
}

absl::StatusOr<std::unique_ptr<ApiClient>> ApiClient::Connect(const std::string& path) {
  std::unique_ptr<ApiClient> client(new ApiClient(path));
  boost::system::error_code ec;
  std::optional<stream::endpoint> endpoint;
  try {
    endpoint.emplace(path);
  } catch (const boost::system::system_error&) {
    return Fail(kExitUsage, absl::StrCat("socket path too long: ", path));
  }
  client->socket_.connect(*endpoint, ec);
  if (!ec) return client;
  const int err = ec.value();
  if (err == EACCES || err == EPERM) {
    return Fail(kExitPermission,
                absl::StrCat("permission denied on ", path,
                             ": join the socket's group (lockmesh-node --api_socket_group)"));
  }
  if (err == ENOENT) {
    return Fail(kExitNodeNotRunning,
                absl::StrCat("node not running: no socket ", path, " (is lockmesh-node up?)"));
  }
  if (err == ECONNREFUSED) {
    return Fail(kExitNodeNotRunning,
                absl::StrCat("node not running: ", path, " refuses connections"));
  }
  return Fail(kExitNodeNotRunning, absl::StrCat("cannot connect to ", path, ": ", ec.message()));
}

absl::StatusOr<std::string> ApiClient::CallText(http::verb method, absl::string_view target,
                                                std::string body,
                                                std::chrono::milliseconds timeout) {
  if (!socket_.is_open()) {
    return Fail(kExitNodeNotRunning, absl::StrCat("the connection to ", path_, " is closed"));
  }
  http::request<http::string_body> request{method, std::string(target), 11};
  request.set(http::field::host, "localhost");
  request.set(http::field::user_agent, "lockmesh");
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
  }
  request.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(tools::kCliResponseBytesMax);

  // Asynchronous operations under run_for(): a blocking read could wait forever on a node
  // that stopped answering (SIGSTOP), and the caller must be able to bound every call.
  std::optional<boost::system::error_code> result;
  io_.restart();
  http::async_write(socket_, request, [&](boost::system::error_code ec, std::size_t) {
    if (ec) {
      result = ec;
      return;
    }
    http::async_read(socket_, buffer_, parser,
                     [&](boost::system::error_code ec, std::size_t) { result = ec; });
  });
  io_.run_for(timeout);
  if (!result) {
    boost::system::error_code ignored;
    socket_.close(ignored);  // cancels the operations; their handlers run below
    io_.restart();
    io_.run();
    return Fail(kExitNodeNotRunning, absl::StrCat("the node did not answer ", target, " within ",
                                                  timeout.count(), " ms"));
  }
  if (*result) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (*result == http::error::body_limit) {
      return Fail(kExitProtocol, absl::StrCat("the node's answer to ", target, " is too large"));
    }
    return Fail(kExitNodeNotRunning,
                absl::StrCat("the connection to the node broke: ", result->message()));
  }
  const http::response<http::string_body>& response = parser.get();
  if (!response.keep_alive()) {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  const int status = static_cast<int>(response.result_int());
  if (status < 200 || status > 299) return FromHttp(status, response.body());
  return response.body();
}

absl::StatusOr<tools::JsonValue> ApiClient::Call(http::verb method, absl::string_view target,
                                                 std::string body,
                                                 std::chrono::milliseconds timeout) {
  absl::StatusOr<std::string> text = CallText(method, target, std::move(body), timeout);
  if (!text.ok()) return text.status();
  absl::StatusOr<tools::JsonValue> json = ParseAnswer(*text);
  if (!json.ok()) {
    return Fail(kExitProtocol, absl::StrCat("the node's answer to ", target,
                                            " is not JSON: ", json.status().message()));
  }
  return json;
}

std::string UrlEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~' || u == '/') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace lockmesh::cli
