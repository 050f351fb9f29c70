// `lockmesh run` through the local node: one connection holds the lease for the command's
// life (docs/local-api.md: leases belong to their connection, so if lockmesh dies the node
// releases the lease at once).
#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/cli/api_client.h"
#include "tools/cli/child.h"
#include "tools/cli/failure.h"
#include "tools/cli/run.h"
#include "tools/limits.h"

namespace lockmesh::cli {
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
    absl::StatusOr<Json> answer = api_.Call(http::verb::get, "/v1/leases", "", timeout);
    if (!answer.ok()) {
      return Fail(kExitLeaseLost,
                  absl::StrCat("lost touch with the node: ", answer.status().message()));
    }
    const Json* leases = answer->Find("leases");
    if (leases == nullptr || leases->kind != Json::Kind::kArray) {
      return Fail(kExitLeaseLost, "the node's lease list makes no sense");
    }
    for (const Json& lease : leases->items) {
      const Json* id = lease.Find("lease_id");
      if (id == nullptr || id->Cell() != lease_id_) continue;
      const Json* lost = lease.Find("lost");
      if (lost != nullptr && lost->kind == Json::Kind::kBool && lost->boolean) {
        return Fail(kExitLeaseLost, "the node reports it lost");
      }
      int64_t expires_ms = 0;
      if (const Json* e = lease.Find("expires_in_ms"); e != nullptr && e->AsInt64(&expires_ms)) {
        deadline_ = sent + milliseconds(expires_ms);
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
  std::string body =
      absl::StrCat("{\"resource\":", JsonQuote(inv.operand), ",\"ttl_ms\":", inv.ttl.count(),
                   ",\"wait_ms\":", inv.wait.count(), ",\"auto_renew\":true",
                   inv.wait.count() == 0 ? ",\"try\":true}" : "}");
  const Clock::time_point sent = Clock::now();
  absl::StatusOr<Json> answer = api.Call(http::verb::post, "/v1/acquire", std::move(body),
                                         inv.wait + milliseconds(tools::kCliAcquireSlackMs));
  if (!answer.ok()) return answer.status();
  Granted g;
  const Json* id = answer->Find("lease_id");
  const Json* token = answer->Find("token");
  int64_t expires_ms = inv.ttl.count();
  if (const Json* e = answer->Find("expires_in_ms"); e != nullptr && !e->AsInt64(&expires_ms)) {
    id = nullptr;
  }
  if (id == nullptr || token == nullptr || !token->AsUint64(&g.token)) {
    return Fail(kExitProtocol, "the node's grant lacks a lease_id, token or expires_in_ms");
  }
  g.lease_id = id->Cell();
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
  absl::StatusOr<Json> released =
      (*api)->Call(http::verb::post, "/v1/release",
                   absl::StrCat("{\"lease_id\":", JsonQuote(lease->lease_id), "}"),
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
