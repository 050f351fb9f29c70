// File: tools/http/json.h
//
// The JSON the node's HTTP endpoints speak: a writer that escapes properly, and a small strict
// parser for request bodies (Debian 12's Boost 1.74 has no Boost.JSON).
//
//   JsonWriter w;
//   w.BeginObject().Key("resource").String(name).Key("token").Uint(token).EndObject();
//   std::string body = std::move(w).Take();
//
//   absl::StatusOr<JsonValue> v = ParseJson(body);      // InvalidArgument naming the problem
//   if (v.ok() && v->is_object()) { const JsonValue* r = v->Find("resource"); ... }
//   std::optional<uint64_t> token = v->Find("token")->uint64();   // exact past 2^53
//
// The parser takes objects, arrays, strings, numbers, true, false and null; refuses trailing
// bytes, duplicate keys, invalid UTF-8, raw control characters, lone surrogates, depths past
// the limits' depth_max and objects or arrays with more than members_max entries (request
// bodies use kJsonDepthMax / kJsonMembersMax; the command reading the node's answers passes
// its own). Objects keep their members in document order; numbers keep their text, so a
// 64-bit fencing token reads back exactly. Strings the writer is given that are not valid
// UTF-8 get U+FFFD for each bad byte, so its output is always JSON.
//
// Plain value types; thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lockmesh::tools {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_object() const { return type_ == Type::kObject; }
  // "null", "boolean", "number", "string", "array", "object".
  absl::string_view type_name() const;

  bool boolean() const { return bool_; }
  // The number's text as written, e.g. "30000" or "1.5e3".
  const std::string& number_text() const { return text_; }
  // The number as an integer if it is written as one (no fraction, no exponent) and fits.
  std::optional<int64_t> integer() const;
  // The same for a non-negative integer within uint64 (fencing tokens), read from the text.
  std::optional<uint64_t> uint64() const;
  const std::string& string() const { return text_; }
  const std::vector<JsonValue>& array() const { return array_; }
  // Members in document order (names are unique).
  const std::vector<std::pair<std::string, JsonValue>>& object() const { return object_; }
  // The member `key` of an object, or nullptr (also when this is not an object). Linear:
  // objects here have a few fields.
  const JsonValue* Find(absl::string_view key) const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<JsonValue> array_;
  std::vector<std::pair<std::string, JsonValue>> object_;
};

// How much structure a parse accepts.
struct JsonLimits {
  int depth_max;
  // Members per object and elements per array.
  std::size_t members_max;
};

// One JSON text; InvalidArgument with the byte offset and what was wrong. The default limits
// are those of the node's request bodies.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);
absl::StatusOr<JsonValue> ParseJson(absl::string_view text, JsonLimits limits);

// `value` as compact JSON text (numbers as written, members in their order).
std::string JsonText(const JsonValue& value);

// Builds one JSON text. The caller pairs Begin/End and puts a Key before each object member;
// commas are placed by the writer.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(absl::string_view key);
  JsonWriter& String(absl::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A parsed value, whole.
  JsonWriter& Value(const JsonValue& value);

  std::string Take() && { return std::move(out_); }

 private:
  void Separate();
  void Quote(absl::string_view text);

  std::string out_;
  // Per open container: whether it has a member yet. After Key, the value is not separated.
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

}  // namespace lockmesh::tools
