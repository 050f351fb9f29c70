// File: runtime/address.h
//
// "host:port" text and UDP endpoints. Gossip carries addresses as text (what a member
// advertises); the runtime turns them into endpoints here.
//
//   absl::StatusOr<udp::endpoint> ep = ParseEndpoint("10.0.0.1:7946");   // numeric only
//   absl::StatusOr<udp::endpoint> seed = ResolveEndpoint("db-1.internal:7946");  // DNS, blocking
//   std::string text = FormatEndpoint(*ep);   // "10.0.0.1:7946", "[::1]:7946"
//
// Thread safety: thread-safe functions.
#pragma once

// clang-format off: Boost 1.74's awaitable.hpp needs <utility> first under GCC 12.
#include <utility>
// clang-format on

#include <boost/asio/ip/udp.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lockmesh::runtime {

using boost::asio::ip::udp;

// A numeric address: "a.b.c.d:port" or "[v6]:port", port 0..65535. InvalidArgument naming the
// problem otherwise. Never blocks.
absl::StatusOr<udp::endpoint> ParseEndpoint(absl::string_view text);

// ParseEndpoint, or else a host name resolved by the system resolver (blocking; for options at
// start only), first IPv4 result preferred. InvalidArgument if malformed or not resolvable.
absl::StatusOr<udp::endpoint> ResolveEndpoint(absl::string_view text);

std::string FormatEndpoint(const udp::endpoint& endpoint);

}  // namespace lockmesh::runtime
