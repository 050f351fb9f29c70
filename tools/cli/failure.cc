#include "tools/cli/failure.h"

#include <cstdio>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/cli/api_client.h"

namespace lockmesh::cli {
namespace {

constexpr absl::string_view kExitPayload = "lockmesh.cli/exit";

}  // namespace

absl::Status Fail(ExitCode code, absl::string_view message) {
  absl::Status s(
      code == kExitUsage ? absl::StatusCode::kInvalidArgument : absl::StatusCode::kUnknown,
      message);
  s.SetPayload(kExitPayload, absl::Cord(std::to_string(static_cast<int>(code))));
  return s;
}

ExitCode ExitOf(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (auto payload = status.GetPayload(kExitPayload)) {
    int code = 0;
    if (absl::SimpleAtoi(std::string(*payload), &code)) return static_cast<ExitCode>(code);
  }
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return kExitWaitTimedOut;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
      return kExitNoQuorum;
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    case absl::StatusCode::kCancelled:
      return kExitNodeNotRunning;
    default:
      return kExitInternal;
  }
}

absl::Status FromHttp(int http_status, absl::string_view body) {
  std::string message = absl::StrCat("the node answered HTTP ", http_status);
  if (absl::StatusOr<tools::JsonValue> json = ParseAnswer(body); json.ok()) {
    const tools::JsonValue* error = json->Find("error");
    const tools::JsonValue* text = error != nullptr ? error->Find("message") : nullptr;
    if (text != nullptr && text->type() == tools::JsonValue::Type::kString) {
      message = absl::StrCat(text->string(), " (HTTP ", http_status, ")");
    }
  }
  switch (http_status) {
    case 400:
    case 413:
      return Fail(kExitUsage, message);
    case 409:
    case 504:
      return Fail(kExitWaitTimedOut, message);
    case 410:
      return Fail(kExitLeaseLost, message);
    case 429:
    case 503:
      return Fail(kExitNoQuorum, message);
    case 499:
      return Fail(kExitNodeNotRunning, message);
    default:
      return Fail(kExitProtocol, message);
  }
}

absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

int Complain(const absl::Status& status) {
  std::fprintf(stderr, "lockmesh: %s\n", std::string(status.message()).c_str());
  return ExitOf(status);
}

}  // namespace lockmesh::cli
