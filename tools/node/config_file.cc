#include "tools/node/config_file.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace lockmesh::tools {
namespace {

absl::Status ReadConfig(const std::string& path, std::vector<std::string>& out) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read --config ", path));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    const std::size_t eq = text.find('=');
    if (eq == 0 || eq == absl::string_view::npos || absl::StartsWith(text, "-")) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", n, ": want flag=value, e.g. name=n1, not \"", text, "\""));
    }
    if (absl::StartsWith(text, "config=")) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": config files do not nest"));
    }
    out.push_back(absl::StrCat("--", text));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandConfigFile(int argc, char** argv) {
  std::vector<std::string> from_files, rest;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view a = argv[i];
    if (a == "--") {
      for (; i < argc; ++i) rest.emplace_back(argv[i]);
      break;
    }
    std::string path;
    if (absl::StartsWith(a, "--config=")) {
      path = std::string(a.substr(9));
    } else if (a == "--config" && i + 1 < argc) {
      path = argv[++i];
    } else {
      rest.emplace_back(a);
      continue;
    }
    if (absl::Status s = ReadConfig(path, from_files); !s.ok()) return s;
  }
  std::vector<std::string> out = {argv[0]};
  out.insert(out.end(), from_files.begin(), from_files.end());
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace lockmesh::tools
