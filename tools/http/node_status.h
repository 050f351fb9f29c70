// File: tools/http/node_status.h
//
// What a running node shows over HTTP, shared by lockmesh-node and the example server:
// GET /metrics (Prometheus text, tools/http/metrics_text.h) and GET /status (JSON), and the
// status document itself, which the local lock API serves too (docs/local-api.md):
//
//   {"node": {"name": "n1", "address": "127.0.0.1:7101", "voter": true,
//             "quarantined": false, "quarantine_remaining_ms": 0},
//    "breaker": {"open": false, "opens": 0, "rejections": 0},
//    "members": [{"name": "n1", "address": "...", "voter": true, "state": "alive",
//                 "tags": {}}, ...],
//    "leases": [{"lease_id": "7", "resource": "jobs/nightly", "token": 4211,
//                "expires_in_ms": 2211, "connection": 3, "auto_renew": false,
//                "lost": false}, ...]}
//
//   auto server = http::Server::ListenTcp(io, "127.0.0.1:9464",
//                                         NodeEndpoints(node, WriteNoLeases), limits);
//
// Thread safety: Node::Members() blocks on the node's own thread, so these must run on a
// thread that does not run the node's io_context (the HTTP server's own thread).
#pragma once

#include <functional>
#include <string>

#include "lockmesh/node.h"
#include "tools/http/json.h"
#include "tools/http/server.h"

namespace lockmesh::tools {

// Writes the "leases" array's elements (the caller's own table of leases).
using LeaseLister = std::function<void(JsonWriter&)>;
inline void WriteNoLeases(JsonWriter&) {}

// "alive", "suspect", "dead", "left".
absl::string_view MemberStateName(MemberView::State state);

// The members array: [{"name", "address", "voter", "state", "tags"}, ...].
void WriteMembers(const std::vector<MemberView>& members, JsonWriter& w);
// The whole /status document.
std::string StatusJson(const Node& node, const LeaseLister& leases);

// Sessions serving GET /metrics and GET /status (404 and 405 for anything else). `node` and
// `leases` must outlive the server.
http::SessionFactory NodeEndpoints(const Node& node, LeaseLister leases);

// The HTTP status of an absl status code, as docs/local-api.md's table gives it.
unsigned HttpStatusOf(absl::StatusCode code);
// A response with that status and the error body naming the code.
http::Response ErrorResponse(const absl::Status& status);
http::Response ErrorResponse(unsigned http_status, const absl::Status& status);

}  // namespace lockmesh::tools
