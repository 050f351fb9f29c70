// File: sim/timeline_script.h
//
// The script of the timeline page (sim/timeline_page.cc): it reads the JSON in
// the element #timeline-data and draws the run as SVG, with zoom, pan and
// tooltips. When it has drawn without an error it sets
// document.body.dataset.rendered = "ok" (and counts of what it drew); an error
// sets document.body.dataset.error and shows it on the page. Internal to sim/.
#pragma once

#include "absl/strings/string_view.h"

namespace lockmesh::sim {

// The script is one function in two parts, written one after the other:
// timeline_script.cc (the data and the drawing) and timeline_script_page.cc
// (the page around the drawing, the interaction, and the start).
extern const absl::string_view kTimelineDrawScript;
extern const absl::string_view kTimelinePageScript;

}  // namespace lockmesh::sim
