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

absl::string_view TimelineScript();

}  // namespace lockmesh::sim
