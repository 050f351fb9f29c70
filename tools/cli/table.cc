#include "tools/cli/table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace lockmesh::cli {

using tools::JsonValue;

namespace {

// Characters, not bytes: UTF-8 continuation bytes do not take a column.
std::size_t Width(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

bool IsTableArray(const JsonValue& v) {
  return v.type() == JsonValue::Type::kArray && !v.array().empty() &&
         std::all_of(v.array().begin(), v.array().end(),
                     [](const JsonValue& e) { return e.is_object(); });
}

// Scalar members of `object` as (dotted name, cell), nested objects flattened.
void Flatten(const JsonValue& object, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [key, v] : object.object()) {
    const std::string name = prefix + key;
    if (v.is_object()) {
      Flatten(v, name + ".", out);
    } else if (!IsTableArray(v)) {
      out.emplace_back(name, Cell(v));
    }
  }
}

// Arrays of objects anywhere in `object`, as (dotted name, array).
void Tables(const JsonValue& object, const std::string& prefix,
            std::vector<std::pair<std::string, const JsonValue*>>& out) {
  for (const auto& [key, v] : object.object()) {
    if (v.is_object()) Tables(v, prefix + key + ".", out);
    if (IsTableArray(v)) out.emplace_back(prefix + key, &v);
  }
}

}  // namespace

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c) widths[c] = Width(header[c]);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], Width(row[c]));
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      text += cell;
      if (c + 1 < widths.size()) text += std::string(widths[c] - Width(cell) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

std::string Cell(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kNull:
      return "-";
    case JsonValue::Type::kString:
      return value.string();
    default:
      return tools::JsonText(value);
  }
}

std::string TableOfObjects(const JsonValue& array) {
  if (array.type() != JsonValue::Type::kArray) return tools::JsonText(array) + "\n";
  if (array.array().empty()) return "(none)\n";
  std::vector<std::string> names;
  for (const JsonValue& e : array.array()) {
    for (const auto& [k, unused] : e.object()) {
      if (std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
    }
  }
  std::vector<std::string> header;
  for (const std::string& n : names) header.push_back(absl::AsciiStrToUpper(n));
  std::vector<std::vector<std::string>> rows;
  for (const JsonValue& e : array.array()) {
    std::vector<std::string> row;
    for (const std::string& n : names) {
      const JsonValue* v = e.Find(n);
      row.push_back(v == nullptr ? "-" : Cell(*v));
    }
    rows.push_back(std::move(row));
  }
  return RenderTable(header, rows);
}

std::string RenderReport(const JsonValue& object) {
  if (!object.is_object()) return tools::JsonText(object) + "\n";
  std::vector<std::pair<std::string, std::string>> scalars;
  Flatten(object, "", scalars);
  std::size_t width = 0;
  for (const auto& [name, value] : scalars) width = std::max(width, Width(name));
  std::string out;
  for (const auto& [name, value] : scalars) {
    absl::StrAppend(&out, name, ":", std::string(width - Width(name) + 2, ' '), value, "\n");
  }
  std::vector<std::pair<std::string, const JsonValue*>> tables;
  Tables(object, "", tables);
  for (const auto& [name, array] : tables) {
    absl::StrAppend(&out, out.empty() ? "" : "\n", name, ":\n", TableOfObjects(*array));
  }
  return out;
}

}  // namespace lockmesh::cli
