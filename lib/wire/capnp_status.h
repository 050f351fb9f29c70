// File: wire/capnp_status.h
//
// The codec's boundary with Cap'n Proto: the library reports malformed input (bad pointers,
// truncation, limits exceeded) and failures by throwing kj::Exception, and nothing may escape
// to the codec's callers. One place turns those into a Status.
//
//   return CatchCapnp(absl::StatusCode::kDataLoss, "malformed batch",
//                     [&] { return DecodeBatchUnchecked(bytes); });
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kj/exception.h"

namespace lockmesh::wire {

// Runs `f` (returning a StatusOr or Status); an exception becomes `code` with "`what`: reason".
template <typename F>
auto CatchCapnp(absl::StatusCode code, std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const kj::Exception& e) {
    return absl::Status(code, absl::StrCat(std::string(what), ": ", e.getDescription().cStr()));
  } catch (const std::exception& e) {
    return absl::Status(code, absl::StrCat(std::string(what), ": ", e.what()));
  }
}

}  // namespace lockmesh::wire
