// The timeline page: markup and style around the run's JSON and the script
// that draws it (sim/timeline_script.cc). Nothing from the scenario is put into
// the markup: the script reads the JSON and sets text with textContent only.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "sim/timeline.h"
#include "sim/timeline_script.h"

namespace lockmesh::sim {
namespace {

constexpr absl::string_view kHead = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lockmesh-sim timeline</title>
<style>
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { margin: 0; padding: 14px 18px 24px; font: 13px/1.4 system-ui, -apple-system, "Segoe UI",
       "DejaVu Sans", "Liberation Sans", sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 18px; margin: 0 0 2px; font-weight: 650; }
h1 .tag { font-weight: 500; color: var(--muted); }
#description { margin: 2px 0 4px; color: #374151; white-space: pre-line; max-width: 1100px; }
#summary { margin: 4px 0; color: #374151; }
#summary .verdict { font-weight: 700; padding: 1px 7px; border-radius: 4px; color: #fff; }
#summary .pass { background: #15803d; }
#summary .fail { background: #dc2626; }
#violations { margin: 4px 0; padding-left: 18px; color: #b91c1c; }
#notices, #error { margin: 6px 0; padding: 6px 10px; border-radius: 4px; }
#notices { background: #fef9c3; border: 1px solid #fde047; }
#error { background: #fee2e2; border: 1px solid #f87171; color: #991b1b; font-weight: 600; }
#toolbar { display: flex; align-items: center; gap: 12px; margin: 8px 0 6px; flex-wrap: wrap; }
#toolbar button { font: inherit; padding: 3px 12px; border: 1px solid #9ca3af; border-radius: 4px;
                  background: #f9fafb; cursor: pointer; }
#toolbar button:hover { background: #eef2ff; }
#toolbar .hint, #range { color: var(--muted); }
#wrap { border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
#chart { display: block; width: 100%; user-select: none; cursor: grab; }
#chart.dragging { cursor: grabbing; }
#chart text { font: 11px system-ui, "DejaVu Sans", "Liberation Sans", sans-serif; }
#chart .lane-name { font-weight: 650; font-size: 12px; fill: #111827; }
#chart .lane-role { fill: var(--muted); font-size: 10px; }
#chart .axis { fill: #4b5563; font-size: 10.5px; }
#chart .bar-label { fill: #fff; font-weight: 600; pointer-events: none; }
#chart .span-label { fill: #374151; font-size: 10px; pointer-events: none; }
#chart .fault-label { fill: #374151; font-size: 10.5px; }
#legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 10px 2px 0; color: #374151; }
#legend .item { display: inline-flex; align-items: center; gap: 6px; }
#legend .swatch { display: inline-block; width: 22px; height: 11px; border-radius: 2px; }
#tooltip { position: fixed; z-index: 10; max-width: 440px; padding: 6px 9px; border-radius: 5px;
           background: rgba(17, 24, 39, 0.94); color: #f9fafb; font-size: 12px;
           white-space: pre-line; pointer-events: none; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
</style>
</head>
<body>
<h1>lockmesh-sim timeline <span class="tag" id="scenario-name"></span></h1>
<p id="description"></p>
<p id="summary"></p>
<ul id="violations" hidden></ul>
<div id="error" hidden></div>
<div id="notices" hidden></div>
<div id="toolbar">
  <button id="reset" type="button">Reset zoom</button>
  <span class="hint">Wheel: zoom around the cursor &middot; drag: pan &middot; hover: details</span>
  <span id="range"></span>
</div>
<div id="wrap"><svg id="chart" role="img" aria-label="timeline of the run"></svg></div>
<div id="legend"></div>
<div id="tooltip" hidden></div>
)html";

}  // namespace

std::string TimelinePage(const Scenario& scenario, uint64_t seed, const RunResult& result,
                         const TimelineRecorder& timeline) {
  // The JSON has no '<' (JsonString), so it cannot end its element early.
  return absl::StrCat(kHead, "<script type=\"application/json\" id=\"timeline-data\">\n",
                      TimelineJson(scenario, seed, result, timeline), "</script>\n<script>\n",
                      kTimelineDrawScript, kTimelinePageScript, "</script>\n</body>\n</html>\n");
}

absl::Status WriteTimelinePage(const std::string& path, const Scenario& scenario, uint64_t seed,
                               const RunResult& result, const TimelineRecorder& timeline) {
  const std::string page = TimelinePage(scenario, seed, result, timeline);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::InvalidArgumentError(absl::StrCat("cannot write the timeline to ", path));
  out.write(page.data(), static_cast<std::streamsize>(page.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("writing the timeline to ", path, " failed"));
  return absl::OkStatus();
}

}  // namespace lockmesh::sim
