#include "tools/node/api_request.h"

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/limits.h"

namespace lockmesh::tools {
namespace {

absl::Status Bad(absl::string_view what) { return absl::InvalidArgumentError(what); }

absl::Status CheckResource(absl::string_view resource) {
  if (resource.empty()) return Bad("\"resource\" is empty");
  if (resource.size() > kResourceBytesMax) {
    return Bad(
        absl::StrCat("\"resource\" is ", resource.size(), " bytes, over ", kResourceBytesMax));
  }
  return absl::OkStatus();
}

// An optional integer member within [min, max]; `fallback` when absent.
absl::StatusOr<int64_t> IntegerField(const JsonValue& object, absl::string_view name,
                                     int64_t fallback, int64_t min, int64_t max) {
  const JsonValue* v = object.Find(name);
  if (v == nullptr) return fallback;
  const std::optional<int64_t> n = v->integer();
  if (!n.has_value()) {
    return Bad(absl::StrCat("\"", name, "\" must be an integer, not ",
                            v->type() == JsonValue::Type::kNumber
                                ? absl::string_view(v->number_text())
                                : v->type_name()));
  }
  if (*n < min || *n > max) {
    return Bad(absl::StrCat("\"", name, "\" is ", *n, ", outside [", min, ", ", max, "]"));
  }
  return *n;
}

absl::StatusOr<bool> BoolField(const JsonValue& object, absl::string_view name) {
  const JsonValue* v = object.Find(name);
  if (v == nullptr) return false;
  if (v->type() != JsonValue::Type::kBool) {
    return Bad(absl::StrCat("\"", name, "\" must be true or false, not ", v->type_name()));
  }
  return v->boolean();
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<JsonValue> ParseRequestObject(absl::string_view body,
                                             std::initializer_list<absl::string_view> allowed) {
  if (body.empty()) return Bad("the request needs a JSON object body");
  absl::StatusOr<JsonValue> v = ParseJson(body);
  if (!v.ok()) return v.status();
  if (!v->is_object()) {
    return Bad(absl::StrCat("the body must be a JSON object, not ", v->type_name()));
  }
  for (const auto& [key, value] : v->object()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Bad(absl::StrCat("unknown field \"", key, "\""));
    }
  }
  return v;
}

absl::StatusOr<AcquireRequest> ParseAcquire(absl::string_view body,
                                            std::chrono::milliseconds lease_max) {
  absl::StatusOr<JsonValue> v =
      ParseRequestObject(body, {"resource", "ttl_ms", "wait_ms", "try", "auto_renew"});
  if (!v.ok()) return v.status();
  AcquireRequest r;
  const JsonValue* resource = v->Find("resource");
  if (resource == nullptr) return Bad("\"resource\" is missing");
  if (resource->type() != JsonValue::Type::kString) {
    return Bad(absl::StrCat("\"resource\" must be a string, not ", resource->type_name()));
  }
  if (absl::Status s = CheckResource(resource->string()); !s.ok()) return s;
  r.resource = resource->string();
  const int64_t ttl_max = lease_max.count();
  absl::StatusOr<int64_t> ttl =
      IntegerField(*v, "ttl_ms", std::min(kApiTtlMsDefault, ttl_max), kApiTtlMsMin, ttl_max);
  if (!ttl.ok()) return ttl.status();
  absl::StatusOr<int64_t> wait = IntegerField(*v, "wait_ms", kApiWaitMsDefault, 0, kApiWaitMsMax);
  if (!wait.ok()) return wait.status();
  absl::StatusOr<bool> try_once = BoolField(*v, "try");
  if (!try_once.ok()) return try_once.status();
  absl::StatusOr<bool> auto_renew = BoolField(*v, "auto_renew");
  if (!auto_renew.ok()) return auto_renew.status();
  r.ttl_ms = *ttl;
  r.wait_ms = *try_once ? 0 : *wait;
  r.auto_renew = *auto_renew;
  return r;
}

absl::StatusOr<int64_t> RenewTtlOf(const JsonValue& request, std::chrono::milliseconds lease_max) {
  return IntegerField(request, "ttl_ms", 0, kApiTtlMsMin, lease_max.count());
}

absl::StatusOr<uint64_t> LeaseIdOf(const JsonValue& request) {
  const JsonValue* v = request.Find("lease_id");
  if (v == nullptr) return Bad("\"lease_id\" is missing");
  if (v->type() != JsonValue::Type::kString) {
    return Bad(absl::StrCat("\"lease_id\" must be a string, not ", v->type_name()));
  }
  uint64_t id = 0;
  if (!absl::SimpleAtoi(v->string(), &id)) {
    return Bad(absl::StrCat("\"lease_id\" \"", v->string(), "\" is not a lease id"));
  }
  return id;
}

absl::StatusOr<std::string> ResourceFromQuery(absl::string_view query) {
  std::optional<std::string> found;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const std::size_t eq = pair.find('=');
    const absl::string_view key = pair.substr(0, eq);
    if (key != "resource") return Bad(absl::StrCat("unknown query parameter \"", key, "\""));
    if (found.has_value()) return Bad("\"resource\" given twice");
    const absl::string_view raw = eq == absl::string_view::npos ? "" : pair.substr(eq + 1);
    std::string decoded;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '%') {
        decoded += raw[i];
        continue;
      }
      const int hi = i + 2 < raw.size() ? HexDigit(raw[i + 1]) : -1;
      const int lo = i + 2 < raw.size() ? HexDigit(raw[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Bad("bad %-escape in the query");
      decoded += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    found = std::move(decoded);
  }
  if (!found.has_value()) return Bad("the query needs resource=NAME");
  if (absl::Status s = CheckResource(*found); !s.ok()) return s;
  return *std::move(found);
}

}  // namespace lockmesh::tools
