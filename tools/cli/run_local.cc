// `lockmesh run` through the local node: one connection holds the lease for the command's
// life (docs/local-api.md: leases belong to their connection, so if lockmesh dies the node
// releases the lease at once).
#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/cli/api_client.h"
#include "tools/cli/child.h"
#include "tools/cli/failure.h"
#include "tools/cli/run.h"
#include "tools/cli/table.h"
#include "tools/http/json.h"
#include "tools/limits.h"

namespace lockmesh::cli {

using tools::JsonValue;
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Watches a lease through GET /v1/leases on its own connection. The lease counts as lost
// when the node says so, no longer lists it, does not answer, or when the deadline it last
// confirmed passes: the deadline is measured from before the request was sent, so it is
// never later than the node's own.
class ApiWatch : public LeaseWatch {
 public:
  ApiWatch(ApiClient& api, std::string lease_id, milliseconds period, Clock::time_point deadline)
      : api_(api), lease_id_(std::move(lease_id)), period_(period), deadline_(deadline) {}

  milliseconds period() const override { return period_; }

  absl::Status Check() override {
    const Clock::time_point sent = Clock::now();
    if (sent >= deadline_) {
      return Fail(kExitLeaseLost, "its deadline passed with no renewal the node confirmed");
    }
    const auto timeout =
        std::min(milliseconds(tools::kCliRequestTimeoutMs),
                 std::chrono::duration_cast<milliseconds>(deadline_ - sent) + milliseconds(1));
    absl::StatusOr<JsonValue> answer = api_.Call(http::verb::get, "/v1/leases", "", timeout);
    if (!answer.ok()) {
      return Fail(kExitLeaseLost,
                  absl::StrCat("lost touch with the node: ", answer.status().message()));
    }
    const JsonValue* leases = answer->Find("leases");
    if (leases == nullptr || leases->type() != JsonValue::Type::kArray) {
      return Fail(kExitLeaseLost, "the node's lease list makes no sense");
    }
    for (const JsonValue& lease : leases->array()) {
      const JsonValue* id = lease.Find("lease_id");
      if (id == nullptr || Cell(*id) != lease_id_) continue;
      const JsonValue* lost = lease.Find("lost");
      if (lost != nullptr && lost->type() == JsonValue::Type::kBool && lost->boolean()) {
        return Fail(kExitLeaseLost, "the node reports it lost");
      }
      if (const JsonValue* e = lease.Find("expires_in_ms"); e != nullptr && e->integer()) {
        deadline_ = sent + milliseconds(*e->integer());
      }
      return absl::OkStatus();
    }
    return Fail(kExitLeaseLost, "the node no longer lists it");
  }

 private:
  ApiClient& api_;
  const std::string lease_id_;
  const milliseconds period_;
  Clock::time_point deadline_;
};

struct Granted {
  std::string lease_id;
  uint64_t token = 0;
  Clock::time_point deadline;
};

absl::StatusOr<Granted> Acquire(ApiClient& api, const Invocation& inv) {
  tools::JsonWriter request;
  request.BeginObject().Key("resource").String(inv.operand);
  request.Key("ttl_ms").Int(inv.ttl.count()).Key("wait_ms").Int(inv.wait.count());
  request.Key("auto_renew").Bool(true);
  if (inv.wait.count() == 0) request.Key("try").Bool(true);
  std::string body = std::move(request.EndObject()).Take();
  const Clock::time_point sent = Clock::now();
  absl::StatusOr<JsonValue> answer = api.Call(http::verb::post, "/v1/acquire", std::move(body),
                                              inv.wait + milliseconds(tools::kCliAcquireSlackMs));
  if (!answer.ok()) return answer.status();
  Granted g;
  const JsonValue* id = answer->Find("lease_id");
  const JsonValue* token = answer->Find("token");
  int64_t expires_ms = inv.ttl.count();
  if (const JsonValue* e = answer->Find("expires_in_ms"); e != nullptr) {
    if (e->integer()) {
      expires_ms = *e->integer();
    } else {
      id = nullptr;
    }
  }
  // Tokens pass 2^53, so they are read exactly from the number's text.
  const std::optional<uint64_t> exact = token != nullptr ? token->uint64() : std::nullopt;
  if (id == nullptr || !exact) {
    return Fail(kExitProtocol, "the node's grant lacks a lease_id, token or expires_in_ms");
  }
  g.token = *exact;
  g.lease_id = Cell(*id);
  g.deadline = sent + milliseconds(expires_ms);
  return g;
}

}  // namespace

milliseconds WatchPeriod(milliseconds ttl) {
  return std::clamp(ttl / tools::kCliWatchTtlDivisor, milliseconds(tools::kCliWatchPeriodMinMs),
                    milliseconds(tools::kCliWatchPeriodMaxMs));
}

int RunLocal(const Invocation& inv) {
  absl::StatusOr<std::string> path = FindSocket(inv.socket);
  if (!path.ok()) return Complain(path.status());
  absl::StatusOr<std::unique_ptr<ApiClient>> api = ApiClient::Connect(*path);
  if (!api.ok()) return Complain(api.status());
  absl::StatusOr<Granted> lease = Acquire(**api, inv);
  if (!lease.ok()) {
    return Complain(Annotate(lease.status(), absl::StrCat("cannot take \"", inv.operand, "\": ")));
  }

  // Signals are blocked only now: until the lease is held, SIGINT simply ends lockmesh,
  // which closes the connection and so ends its request on the node.
  const sigset_t old_mask = BlockRunSignals();
  ApiWatch watch(**api, lease->lease_id, WatchPeriod(inv.ttl), lease->deadline);
  const Outcome out = Supervise(
      inv.command,
      {{"LOCKMESH_TOKEN", std::to_string(lease->token)}, {"LOCKMESH_RESOURCE", inv.operand}},
      inv.grace, watch, old_mask);
  if (!out.exec_error.empty()) {
    std::fprintf(stderr, "lockmesh: %s\n", out.exec_error.c_str());
    return out.status;
  }
  if (out.lost) {
    return Complain(
        Fail(kExitLeaseLost, absl::StrCat("lease on \"", inv.operand, "\" lost (",
                                          out.why.message(), "); the command was stopped")));
  }
  tools::JsonWriter release;
  release.BeginObject().Key("lease_id").String(lease->lease_id).EndObject();
  absl::StatusOr<JsonValue> released =
      (*api)->Call(http::verb::post, "/v1/release", std::move(release).Take(),
                   milliseconds(tools::kCliRequestTimeoutMs));
  if (!released.ok()) {
    if (ExitOf(released.status()) == kExitLeaseLost) {
      return Complain(Fail(kExitLeaseLost, absl::StrCat("lease on \"", inv.operand,
                                                        "\" was lost before the command ended (",
                                                        released.status().message(), ")")));
    }
    // The command is done; the lease ends with the connection or its TTL.
    std::fprintf(stderr, "lockmesh: warning: release failed (%s)\n",
                 std::string(released.status().message()).c_str());
  }
  return out.status;
}

}  // namespace lockmesh::cli
