#include "tools/cli/table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace lockmesh::cli {
namespace {

// Characters, not bytes: UTF-8 continuation bytes do not take a column.
std::size_t Width(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

bool IsTableArray(const Json& v) {
  return v.kind == Json::Kind::kArray && !v.items.empty() &&
         std::all_of(v.items.begin(), v.items.end(),
                     [](const Json& e) { return e.kind == Json::Kind::kObject; });
}

// Scalar members of `object` as (dotted name, cell), nested objects flattened.
void Flatten(const Json& object, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  for (std::size_t i = 0; i < object.keys.size(); ++i) {
    const Json& v = object.items[i];
    const std::string name = prefix + object.keys[i];
    if (v.kind == Json::Kind::kObject) {
      Flatten(v, name + ".", out);
    } else if (!IsTableArray(v)) {
      out.emplace_back(name, v.Cell());
    }
  }
}

// Arrays of objects anywhere in `object`, as (dotted name, array).
void Tables(const Json& object, const std::string& prefix,
            std::vector<std::pair<std::string, const Json*>>& out) {
  for (std::size_t i = 0; i < object.keys.size(); ++i) {
    const Json& v = object.items[i];
    if (v.kind == Json::Kind::kObject) Tables(v, prefix + object.keys[i] + ".", out);
    if (IsTableArray(v)) out.emplace_back(prefix + object.keys[i], &v);
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

std::string TableOfObjects(const Json& array) {
  if (array.kind != Json::Kind::kArray) return JsonText(array) + "\n";
  if (array.items.empty()) return "(none)\n";
  std::vector<std::string> names;
  for (const Json& e : array.items) {
    for (const std::string& k : e.keys) {
      if (std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
    }
  }
  std::vector<std::string> header;
  for (const std::string& n : names) header.push_back(absl::AsciiStrToUpper(n));
  std::vector<std::vector<std::string>> rows;
  for (const Json& e : array.items) {
    std::vector<std::string> row;
    for (const std::string& n : names) {
      const Json* v = e.Find(n);
      row.push_back(v == nullptr ? "-" : v->Cell());
    }
    rows.push_back(std::move(row));
  }
  return RenderTable(header, rows);
}

std::string RenderReport(const Json& object) {
  if (object.kind != Json::Kind::kObject) return JsonText(object) + "\n";
  std::vector<std::pair<std::string, std::string>> scalars;
  Flatten(object, "", scalars);
  std::size_t width = 0;
  for (const auto& [name, value] : scalars) width = std::max(width, Width(name));
  std::string out;
  for (const auto& [name, value] : scalars) {
    absl::StrAppend(&out, name, ":", std::string(width - Width(name) + 2, ' '), value, "\n");
  }
  std::vector<std::pair<std::string, const Json*>> tables;
  Tables(object, "", tables);
  for (const auto& [name, array] : tables) {
    absl::StrAppend(&out, out.empty() ? "" : "\n", name, ":\n", TableOfObjects(*array));
  }
  return out;
}

}  // namespace lockmesh::cli
