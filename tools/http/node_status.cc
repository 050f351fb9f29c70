#include "tools/http/node_status.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/http/metrics_text.h"

namespace lockmesh::tools {

absl::string_view MemberStateName(MemberView::State state) {
  switch (state) {
    case MemberView::State::kAlive:
      return "alive";
    case MemberView::State::kSuspect:
      return "suspect";
    case MemberView::State::kDead:
      return "dead";
    case MemberView::State::kLeft:
      return "left";
  }
  return "unknown";
}

void WriteMembers(const std::vector<MemberView>& members, JsonWriter& w) {
  w.BeginArray();
  for (const MemberView& m : members) {
    w.BeginObject();
    w.Key("name").String(m.name).Key("address").String(m.address);
    w.Key("voter").Bool(m.voter).Key("state").String(MemberStateName(m.state));
    w.Key("tags").BeginObject();
    for (const auto& [key, value] : m.tags) w.Key(key).String(value);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

std::string StatusJson(const Node& node, const LeaseLister& leases) {
  const Metrics m = node.GetMetrics();
  JsonWriter w;
  w.BeginObject();
  w.Key("node").BeginObject();
  w.Key("name").String(node.name()).Key("address").String(node.address());
  w.Key("voter").Bool(m.voter).Key("quarantined").Bool(m.quarantined);
  w.Key("quarantine_remaining_ms").Int(m.quarantine_remaining_ms);
  w.EndObject();
  w.Key("breaker").BeginObject();
  w.Key("open").Bool(m.breaker_open).Key("opens").Uint(m.breaker_opens);
  w.Key("rejections").Uint(m.breaker_rejections);
  w.EndObject();
  // Members() fails only on the node's own thread, where these never run; say so if it did.
  absl::StatusOr<std::vector<MemberView>> members = node.Members();
  w.Key("members");
  WriteMembers(members.ok() ? *members : std::vector<MemberView>{}, w);
  if (!members.ok()) w.Key("members_error").String(std::string(members.status().message()));
  w.Key("leases").BeginArray();
  leases(w);
  w.EndArray();
  w.EndObject();
  return std::move(w).Take();
}

unsigned HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 410;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

http::Response ErrorResponse(unsigned http_status, const absl::Status& status) {
  return {.status = http_status,
          .body = http::ErrorBody(absl::StatusCodeToString(status.code()), status.message())};
}

http::Response ErrorResponse(const absl::Status& status) {
  return ErrorResponse(HttpStatusOf(status.code()), status);
}

namespace {

class EndpointSession : public http::Session {
 public:
  EndpointSession(const Node& node, std::shared_ptr<const LeaseLister> leases)
      : node_(node), leases_(std::move(leases)) {}

  void Handle(const http::Request& request, http::Respond respond) override {
    const absl::string_view target(request.target().data(), request.target().size());
    const absl::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics" && path != "/status") {
      return respond(ErrorResponse(absl::NotFoundError(absl::StrCat("no such path: ", path))));
    }
    if (request.method() != boost::beast::http::verb::get) {
      return respond(
          ErrorResponse(405, absl::InvalidArgumentError(absl::StrCat(path, " takes GET only"))));
    }
    if (path == "/metrics") {
      return respond(
          {.content_type = kPrometheusContentType, .body = PrometheusText(node_.GetMetrics())});
    }
    respond({.body = StatusJson(node_, *leases_)});
  }

 private:
  const Node& node_;
  std::shared_ptr<const LeaseLister> leases_;
};

}  // namespace

http::SessionFactory NodeEndpoints(const Node& node, LeaseLister leases) {
  auto shared = std::make_shared<const LeaseLister>(std::move(leases));
  return [&node, shared](uint64_t) -> std::unique_ptr<http::Session> {
    return std::make_unique<EndpointSession>(node, shared);
  };
}

}  // namespace lockmesh::tools
