// Prints PrometheusText(FilledMetrics()) on stdout: the exposition the dashboard test
// (dashboard_check.cmake) checks the dashboard's queries against.
#include <cstdio>
#include <string>

#include "tests/tools/metrics_fill.h"
#include "tools/http/metrics_text.h"

int main() {
  const std::string text =
      lockmesh::tools::PrometheusText(lockmesh::tools::testing::FilledMetrics());
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
