#include "lib/runtime/address.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>
#include <charconv>

#include "absl/strings/str_cat.h"

namespace lockmesh::runtime {
namespace {

struct HostPort {
  absl::string_view host;
  uint16_t port = 0;
};

absl::StatusOr<HostPort> Split(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty address");
  if (text.size() > 255) return absl::InvalidArgumentError("address longer than 255 bytes");
  absl::string_view host;
  absl::string_view port;
  if (text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == absl::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("address '", text, "': expected [ipv6]:port"));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("address '", text, "' has no :port"));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("address '", text, "': write IPv6 addresses as [ipv6]:port"));
    }
  }
  if (host.empty())
    return absl::InvalidArgumentError(absl::StrCat("address '", text, "' has no host"));
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", text, "': port must be a number in 0..65535"));
  }
  return HostPort{host, static_cast<uint16_t>(value)};
}

}  // namespace

absl::StatusOr<udp::endpoint> ParseEndpoint(absl::string_view text) {
  absl::StatusOr<HostPort> hp = Split(text);
  if (!hp.ok()) return hp.status();
  boost::system::error_code ec;
  const boost::asio::ip::address ip = boost::asio::ip::make_address(std::string(hp->host), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", text, "': '", hp->host, "' is not a numeric IP address"));
  }
  return udp::endpoint(ip, hp->port);
}

absl::StatusOr<udp::endpoint> ResolveEndpoint(absl::string_view text) {
  absl::StatusOr<udp::endpoint> numeric = ParseEndpoint(text);
  if (numeric.ok()) return numeric;
  absl::StatusOr<HostPort> hp = Split(text);
  if (!hp.ok()) return hp.status();
  boost::asio::io_context io;
  udp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(std::string(hp->host), std::to_string(hp->port), ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", text, "': cannot resolve '", hp->host, "'"));
  }
  for (const auto& entry : results) {
    if (entry.endpoint().address().is_v4()) return entry.endpoint();
  }
  return results.begin()->endpoint();
}

std::string FormatEndpoint(const udp::endpoint& endpoint) {
  const boost::asio::ip::address ip = endpoint.address();
  if (ip.is_v6()) return absl::StrCat("[", ip.to_string(), "]:", endpoint.port());
  return absl::StrCat(ip.to_string(), ":", endpoint.port());
}

}  // namespace lockmesh::runtime
