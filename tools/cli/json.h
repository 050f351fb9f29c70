// File: tools/cli/json.h
//
// A small strict JSON reader (RFC 8259) for the local API's answers, and the quoting its
// requests need. Debian 12's Boost 1.74 has no Boost.JSON (it arrived in 1.75), hence this.
//
//   absl::StatusOr<Json> body = ParseJson(text);
//   if (!body.ok()) return body.status();                  // names the byte offset
//   const Json* token = body->Find("token");
//   uint64_t t = 0;
//   if (token == nullptr || !token->AsUint64(&t)) ...      // missing or not a u64
//   std::string request = absl::StrCat("{\"resource\":", JsonQuote(name), "}");
//
// Numbers keep their text, so a 64-bit fencing token reads back exactly (a double would
// round it). Objects keep their members in document order (tables print them that way);
// a duplicate member name is refused. Nesting is bounded by kCliJsonDepthMax.
//
// Thread safety: a Json is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lockmesh::cli {

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  // The decoded string (kString) or the number's text as written (kNumber).
  std::string text;
  // kArray: the elements; kObject: the members' values, with their names in `keys`.
  std::vector<Json> items;
  std::vector<std::string> keys;

  // The member `name` of an object; nullptr if absent or if this is not an object.
  const Json* Find(absl::string_view name) const;
  // False unless this is a number that is a non-negative integer within uint64 / int64.
  bool AsUint64(uint64_t* out) const;
  bool AsInt64(int64_t* out) const;
  // The value as one would print it in a table cell: strings bare, null as "-", arrays and
  // objects as compact JSON.
  std::string Cell() const;
};

// The whole of `text` as one JSON value (surrounding whitespace allowed); InvalidArgument
// naming the problem and its byte offset otherwise.
absl::StatusOr<Json> ParseJson(absl::string_view text);

// `s` as a JSON string literal, quotes included; control characters, '"' and '\' escaped.
std::string JsonQuote(absl::string_view s);

// `value` as compact JSON text.
std::string JsonText(const Json& value);

}  // namespace lockmesh::cli
