// File: tools/cli/table.h
//
// The readable forms of the local API's JSON answers for `lockmesh status|members|holder`:
// aligned tables, one row per member or lease, columns in the order the node wrote them, so
// a field the node adds shows up without a change here.
//
//   std::cout << RenderTable({"NAME", "STATE"}, {{"n1", "alive"}, {"n2", "suspect"}});
//   // NAME  STATE
//   // n1    alive
//   // n2    suspect
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "tools/http/json.h"

namespace lockmesh::cli {

// Columns padded to their widest cell (in UTF-8 characters), two spaces apart, no trailing
// blanks, a newline after each line. Rows shorter than the header get empty cells.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// An array of objects as a table: one column per member name, in first-seen order, headed
// by the name in upper case; a row lacking a member gets "-". "(none)" for an empty array.
std::string TableOfObjects(const tools::JsonValue& array);

// An object as a report: its scalar members first, "name: value" with the values aligned
// (nested objects flattened as "outer.inner"), then each array of objects as a titled
// table. Anything else prints as compact JSON.
std::string RenderReport(const tools::JsonValue& object);

// A value as one table cell: strings bare, null as "-", anything else as compact JSON.
std::string Cell(const tools::JsonValue& value);

}  // namespace lockmesh::cli
