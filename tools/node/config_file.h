// File: tools/node/config_file.h
//
// `--config=FILE` for lockmesh-node: a file of `flag=value` lines (blank lines and lines
// starting with '#' are skipped) taken as if they were given on the command line before the
// other arguments, so the command line overrides the file.
//
//   # /etc/lockmesh/n1.conf
//   name=n1
//   bind=10.0.0.1:7946
//   key_file=/etc/lockmesh/key
//
//   absl::StatusOr<std::vector<std::string>> args = ExpandConfigFile(argc, argv);
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lockmesh::tools {

// argv with every --config=FILE (or "--config FILE") replaced by the file's flags, placed
// first. InvalidArgument for an unreadable file or a line that is not `flag=value`.
absl::StatusOr<std::vector<std::string>> ExpandConfigFile(int argc, char** argv);

}  // namespace lockmesh::tools
