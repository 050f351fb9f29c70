#include "tools/node/lock_api.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/http/node_status.h"
#include "tools/limits.h"
#include "tools/node/api_request.h"

namespace lockmesh::tools {

namespace asio = boost::asio;
using boost::beast::http::verb;

namespace {

int64_t RemainingMs(const Lease& lease) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      lease.deadline() - std::chrono::steady_clock::now());
  return std::max<int64_t>(0, left.count());
}

void WriteLease(uint64_t id, const LockApi::Held& h, JsonWriter& w) {
  w.BeginObject();
  w.Key("lease_id").String(absl::StrCat(id)).Key("resource").String(h.lease.resource());
  w.Key("token").Uint(h.lease.token()).Key("ttl_ms").Int(h.ttl_ms);
  w.Key("expires_in_ms").Int(RemainingMs(h.lease)).Key("auto_renew").Bool(h.auto_renew);
  w.Key("connection").Uint(h.connection).Key("lost").Bool(h.lease.lost());
  w.EndObject();
}

http::Response Json(JsonWriter&& w) { return {.body = std::move(w).Take()}; }

}  // namespace

// What outlives the session: the acquire still waiting when the connection closes finds
// `open` false and drops its lease (which releases it).
struct ConnectionState {
  bool open = true;
  CancelSignal cancel;
};

// One connection of the API socket.
class ApiSession : public http::Session {
 public:
  ApiSession(LockApi& api, uint64_t connection)
      : api_(api), connection_(connection), state_(std::make_shared<ConnectionState>()) {}

  // The connection closed: a waiting acquire is cancelled and every lease it holds released.
  ~ApiSession() override {
    state_->open = false;
    state_->cancel.Cancel();
    for (uint64_t id : mine_) api_.leases_.erase(id);
  }

  void Handle(const http::Request& request, http::Respond respond) override {
    const absl::string_view target(request.target().data(), request.target().size());
    const std::size_t q = target.find('?');
    const absl::string_view path = target.substr(0, q);
    const absl::string_view query = q == absl::string_view::npos ? "" : target.substr(q + 1);
    const bool post = request.method() == verb::post;
    const bool get = request.method() == verb::get;
    const std::string& body = request.body();
    if (path == "/v1/acquire") {
      if (!post) return respond(WrongMethod(path, "POST"));
      return Acquire(body, std::move(respond));
    }
    if (path == "/v1/release") return respond(post ? Release(body) : WrongMethod(path, "POST"));
    if (path == "/v1/renew") {
      if (!post) return respond(WrongMethod(path, "POST"));
      return Renew(body, std::move(respond));
    }
    if (path == "/v1/leases") return respond(get ? Leases() : WrongMethod(path, "GET"));
    if (path == "/v1/holder") return respond(get ? Holder(query) : WrongMethod(path, "GET"));
    if (path == "/v1/status") {
      if (!get) return respond(WrongMethod(path, "GET"));
      return respond(
          {.body = StatusJson(api_.node_, [this](JsonWriter& w) { api_.WriteLeases(w); })});
    }
    if (path == "/v1/members") {
      if (!get) return respond(WrongMethod(path, "GET"));
      absl::StatusOr<std::vector<MemberView>> members = api_.node_.Members();
      if (!members.ok()) return respond(ErrorResponse(members.status()));
      JsonWriter w;
      w.BeginObject().Key("members");
      WriteMembers(*members, w);
      w.EndObject();
      return respond(Json(std::move(w)));
    }
    respond(ErrorResponse(absl::NotFoundError(absl::StrCat("no such path: ", path))));
  }

 private:
  static http::Response WrongMethod(absl::string_view path, absl::string_view method) {
    return ErrorResponse(
        405, absl::InvalidArgumentError(absl::StrCat(path, " takes ", method, " only")));
  }

  void Acquire(const std::string& body, http::Respond respond) {
    absl::StatusOr<AcquireRequest> r = ParseAcquire(body, api_.lease_max_);
    if (!r.ok()) return respond(ErrorResponse(r.status()));
    if (mine_.size() >= kApiLeasesPerConnectionMax) {
      return respond(ErrorResponse(absl::ResourceExhaustedError(absl::StrCat(
          "this connection holds ", kApiLeasesPerConnectionMax, " leases, the most it may"))));
    }
    AcquireOptions options{.duration = std::chrono::milliseconds(r->ttl_ms),
                           .wait = std::chrono::milliseconds(r->wait_ms),
                           .auto_renew = r->auto_renew,
                           .cancel = state_->cancel};
    // The node calls back on its own thread; the result is handled on the API's.
    api_.node_.AcquireAsync(
        r->resource, std::move(options),
        [api = &api_, state = state_, this, ttl_ms = r->ttl_ms, auto_renew = r->auto_renew,
         respond = std::move(respond)](absl::StatusOr<Lease> lease) mutable {
          asio::post(api->io_, [api, state, this, ttl_ms, auto_renew, respond = std::move(respond),
                                lease = std::move(lease)]() mutable {
            // A closed connection's lease is dropped here, which releases it.
            if (!state->open) return;
            if (!lease.ok()) return respond(ErrorResponse(lease.status()));
            const uint64_t id = api->next_lease_id_++;
            LockApi::Held& h = api->leases_[id];
            h = {.connection = connection_,
                 .ttl_ms = ttl_ms,
                 .auto_renew = auto_renew,
                 .lease = *std::move(lease)};
            mine_.insert(id);
            JsonWriter w;
            WriteLease(id, h, w);
            respond(Json(std::move(w)));
          });
        });
  }

  // The lease `body` names, held by this connection; NotFound otherwise.
  absl::StatusOr<uint64_t> Mine(const JsonValue& request) {
    absl::StatusOr<uint64_t> id = LeaseIdOf(request);
    if (!id.ok()) return id.status();
    if (mine_.count(*id) == 0) {
      return absl::NotFoundError(absl::StrCat("this connection holds no lease ", *id));
    }
    return id;
  }

  http::Response Release(const std::string& body) {
    absl::StatusOr<JsonValue> request = ParseRequestObject(body, {"lease_id"});
    if (!request.ok()) return ErrorResponse(request.status());
    absl::StatusOr<uint64_t> id = Mine(*request);
    if (!id.ok()) return ErrorResponse(id.status());
    Lease lease = std::move(api_.leases_[*id].lease);
    api_.leases_.erase(*id);
    mine_.erase(*id);
    if (lease.lost() || !lease.Release().ok()) {
      return ErrorResponse(absl::FailedPreconditionError(
          absl::StrCat("lease ", *id, " on ", lease.resource(), " was lost before the release")));
    }
    JsonWriter w;
    w.BeginObject().Key("released").Bool(true).EndObject();
    return Json(std::move(w));
  }

  void Renew(const std::string& body, http::Respond respond) {
    absl::StatusOr<JsonValue> request = ParseRequestObject(body, {"lease_id", "ttl_ms"});
    if (!request.ok()) return respond(ErrorResponse(request.status()));
    absl::StatusOr<int64_t> ttl = RenewTtlOf(*request, api_.lease_max_);
    if (!ttl.ok()) return respond(ErrorResponse(ttl.status()));
    absl::StatusOr<uint64_t> id = Mine(*request);
    if (!id.ok()) return respond(ErrorResponse(id.status()));
    api_.leases_.at(*id).lease.RenewAsync(
        std::chrono::milliseconds(*ttl),
        [api = &api_, state = state_, this, id = *id, ttl = *ttl,
         respond = std::move(respond)](absl::Status renewed) mutable {
          asio::post(api->io_, [api, state, this, id, ttl, renewed = std::move(renewed),
                                respond = std::move(respond)]() mutable {
            if (!state->open) return;
            if (mine_.count(id) == 0) {
              return respond(ErrorResponse(absl::NotFoundError(
                  absl::StrCat("lease ", id, " was released while it was renewed"))));
            }
            if (!renewed.ok()) return respond(ErrorResponse(renewed));
            LockApi::Held& h = api->leases_.at(id);
            if (ttl != 0) h.ttl_ms = ttl;
            JsonWriter w;
            WriteLease(id, h, w);
            respond(Json(std::move(w)));
          });
        });
  }

  http::Response Leases() const {
    JsonWriter w;
    w.BeginObject().Key("leases").BeginArray();
    for (uint64_t id : mine_) WriteLease(id, api_.leases_.at(id), w);
    w.EndArray().EndObject();
    return Json(std::move(w));
  }

  http::Response Holder(absl::string_view query) const {
    absl::StatusOr<std::string> resource = ResourceFromQuery(query);
    if (!resource.ok()) return ErrorResponse(resource.status());
    JsonWriter w;
    w.BeginObject().Key("resource").String(*resource);
    for (const auto& [id, h] : api_.leases_) {
      if (h.lease.resource() == *resource && h.lease.valid()) {
        w.Key("held_here").Bool(true).Key("token").Uint(h.lease.token());
        w.Key("expires_in_ms").Int(RemainingMs(h.lease)).EndObject();
        return Json(std::move(w));
      }
    }
    w.Key("held_here").Bool(false).EndObject();
    return Json(std::move(w));
  }

  LockApi& api_;
  const uint64_t connection_;
  std::shared_ptr<ConnectionState> state_;
  // The ids of the leases this connection holds.
  std::set<uint64_t> mine_;
};

LockApi::LockApi(Node& node, asio::io_context& io, std::chrono::milliseconds lease_max)
    : node_(node), io_(io), lease_max_(lease_max) {}

http::SessionFactory LockApi::Sessions() {
  return [this](uint64_t connection) -> std::unique_ptr<http::Session> {
    return std::make_unique<ApiSession>(*this, connection);
  };
}

void LockApi::WriteLeases(JsonWriter& w) const {
  for (const auto& [id, h] : leases_) WriteLease(id, h, w);
}

}  // namespace lockmesh::tools
