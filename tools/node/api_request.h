// File: tools/node/api_request.h
//
// The local lock API's request bodies and query strings, checked strictly: every problem is
// InvalidArgument naming the field (docs/local-api.md). Pure functions.
//
//   absl::StatusOr<AcquireRequest> r = ParseAcquire(R"({"resource": "jobs/7"})", 30s);
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/http/json.h"

namespace lockmesh::tools {

struct AcquireRequest {
  std::string resource;
  int64_t ttl_ms = 0;
  int64_t wait_ms = 0;  // zero for a try-acquire
  bool auto_renew = false;
};

// A JSON object with no members but `allowed` ones.
absl::StatusOr<JsonValue> ParseRequestObject(absl::string_view body,
                                             std::initializer_list<absl::string_view> allowed);
// POST /v1/acquire's body; `lease_max` bounds ttl_ms.
absl::StatusOr<AcquireRequest> ParseAcquire(absl::string_view body,
                                            std::chrono::milliseconds lease_max);
// POST /v1/renew's optional "ttl_ms", bounded like acquire's; 0 (the lease's own duration)
// when absent.
absl::StatusOr<int64_t> RenewTtlOf(const JsonValue& request, std::chrono::milliseconds lease_max);
// The required "lease_id" member: a decimal string, as acquire returns it.
absl::StatusOr<uint64_t> LeaseIdOf(const JsonValue& request);
// "resource=NAME" of a query string, percent-decoded (a '+' stays a '+'), checked like a
// resource in a body.
absl::StatusOr<std::string> ResourceFromQuery(absl::string_view query);

}  // namespace lockmesh::tools
