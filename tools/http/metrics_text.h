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
#include <string_view>

#include "lockmesh/metrics.h"

namespace lockmesh::tools {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// The whole exposition: HELP and TYPE once per family, one sample a line, a final newline.
// Names: counters end in `_total` (bytes in `_bytes_total`); per-reason, per-outcome and
// per-state values are labels of one family (`lockmesh_datagrams_dropped_total{reason=...}`,
// `lockmesh_acquires_total{outcome=...}`, `lockmesh_lease_ends_total{how=...}`,
// `lockmesh_members{state=...}`); tools/grafana/lockmesh.json queries these names.
std::string PrometheusText(const Metrics& metrics);

// A label value escaped for the exposition format, without the quotes: a backslash becomes two,
// a double quote becomes backslash-quote, a newline becomes backslash-n.
std::string EscapeLabelValue(std::string_view value);

}  // namespace lockmesh::tools
