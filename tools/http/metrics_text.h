// File: tools/http/metrics_text.h
//
// One node's lockmesh::Metrics in the Prometheus text exposition format (version 0.0.4):
// every counter under a `lockmesh_` prefix with its unit in the name (`_total`, `_seconds`,
// `_bytes`), the acquire latency as a histogram in seconds, gauges for what is "now".
//
//   std::string body = lockmesh::tools::PrometheusText(node->GetMetrics());
//   // served as "text/plain; version=0.0.4; charset=utf-8"
//
// Pure function; thread-compatible.
#pragma once

#include <string>

#include "lockmesh/metrics.h"

namespace lockmesh::tools {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string PrometheusText(const Metrics& metrics);

}  // namespace lockmesh::tools
