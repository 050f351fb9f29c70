// The second part of the timeline page's script (see sim/timeline_script.h):
// the page's text, the legend, tooltips, zoom and pan, and the first drawing.
#include "sim/timeline_script.h"

namespace lockmesh::sim {

extern const absl::string_view kTimelinePageScript =
    R"js(  // ---- page text, legend, interaction ----
  function fillText() {
    const s = D.scenario;
    document.title = "lockmesh-sim timeline: " + s.name;
    document.getElementById("scenario-name").textContent = "\u00b7 " + s.name;
    document.getElementById("description").textContent = s.description;
    const summary = document.getElementById("summary");
    summary.textContent = D.nodes.length + " nodes (" + s.voters + " voters" +
        (s.members ? ", " + s.members + " members" : "") + "), " + s.clients +
        " client(s) per node, lease " + dur(s.lease_us) + ", " + dur(runUs) +
        " simulated, seed " + D.seed + ", trace " + D.trace + " \u00b7 " + D.stats.grants +
        " grants, " + D.stats.releases + " released, " + D.stats.expiries + " ran out, " +
        D.stats.writes + " fenced writes, " + D.stats.refused + " stale writes refused \u00b7 ";
    const verdict = document.createElement("span");
    verdict.className = "verdict " + (D.pass ? "pass" : "fail");
    verdict.textContent = D.pass ? "PASS" : "FAIL";
    summary.appendChild(verdict);
    if (!D.rates_in_bound) {
      summary.appendChild(document.createTextNode(
          " (a clock rate beyond rho: S1 and S2 not checked)"));
    }
    const list = document.getElementById("violations");
    for (const v of D.violations) {
      const li = document.createElement("li");
      li.textContent = v.property + " at " + fmt(v.at) + ": " + v.detail;
      list.appendChild(li);
    }
    list.hidden = D.violations.length === 0;
    const notices = document.getElementById("notices");
    if (D.truncated.length) {
      notices.textContent = "This page does not show everything: " + D.truncated.join("; ") + ".";
      notices.hidden = false;
    }
  }

  function legend() {
    const box = document.getElementById("legend");
    const item = (style, label) => {
      const it = document.createElement("span");
      it.className = "item";
      const sw = document.createElement("span");
      sw.className = "swatch";
      Object.assign(sw.style, style);
      it.appendChild(sw);
      it.appendChild(document.createTextNode(label));
      box.appendChild(it);
    };
    for (const [r, colour] of resourceColour) item({ background: colour }, "lease on " + r +
                                                    " (label: token)");
    if (D.leases.some((l) => !resourceColour.has(l.resource))) {
      item({ background: OWN_COLOUR }, "lease on a client's own resource");
    }
    const hatch = (back, stripe) => "repeating-linear-gradient(45deg, " + stripe + " 0 2px, " +
                                    back + " 2px 5px)";
    item({ background: hatch("rgba(37,99,235,0.35)", "#fff") },
         "past its deadline, holder not yet told");
    item({ width: "4px", background: C.lost }, "lease lost (ran out)");
    item({ height: "0", borderTop: "2px dashed " + C.wait }, "waiting for a grant");
    item({ background: hatch("#e5e7eb", "#9ca3af") }, "node down");
    item({ background: hatch("#fef3c7", "#f59e0b") }, "paused");
    item({ background: "linear-gradient(90deg, " + TINTS[0] + " 50%, " + TINTS[1] + " 50%)" },
         "partition (a tint per side)");
    item({ background: FAULT_COLOUR.network, height: "6px" }, "partitioned");
    item({ background: FAULT_COLOUR.crash, width: "10px", clipPath: "polygon(0 0,100% 0,50% 100%)" },
         "fault");
    item({ height: "0", borderTop: "2px dashed " + C.quiet }, "faults stop");
    item({ width: "3px", background: C.written }, "fenced write accepted");
    item({ width: "4px", background: C.refused }, "stale operation refused");
    item({ width: "4px", background: C.violation }, "violation (hover for the checker's message)");
  }

  function hover(e) {
    let t = e.target;
    while (t && t !== svg && !t.tip) t = t.parentNode;
    if (!t || !t.tip || drag) {
      tooltip.hidden = true;
      return;
    }
    tooltip.textContent = t.tip;
    tooltip.hidden = false;
    const r = tooltip.getBoundingClientRect();
    let left = e.clientX + 14, top = e.clientY + 14;
    if (left + r.width > window.innerWidth - 4) left = e.clientX - r.width - 14;
    if (top + r.height > window.innerHeight - 4) top = e.clientY - r.height - 14;
    tooltip.style.left = Math.max(4, left) + "px";
    tooltip.style.top = Math.max(4, top) + "px";
  }

  let drag = null;
  const plotWidth = () => svg.getBoundingClientRect().width - LEFT - RIGHT;
  svg.addEventListener("mousemove", hover);
  svg.addEventListener("mouseleave", () => { tooltip.hidden = true; });
  svg.addEventListener("wheel", (e) => {
    const px = e.clientX - svg.getBoundingClientRect().left;
    const w = plotWidth();
    if (px < LEFT || px > LEFT + w) return;
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? 400 : 1;
    const span = view.t1 - view.t0;
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      setView(view.t0 + e.deltaX * unit / w * span, span);
      return;
    }
    const factor = Math.exp(Math.max(-3, Math.min(3, e.deltaY * unit * 0.0015)));
    const frac = (px - LEFT) / w;
    const anchor = view.t0 + frac * span;
    const next = Math.max(MIN_SPAN_US, Math.min(runUs, span * factor));
    setView(anchor - frac * next, next);
  }, { passive: false });
  svg.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, t0: view.t0 };
    svg.setPointerCapture(e.pointerId);
    svg.classList.add("dragging");
    tooltip.hidden = true;
  });
  svg.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const span = view.t1 - view.t0;
    setView(drag.t0 - (e.clientX - drag.x) / plotWidth() * span, span);
  });
  const endDrag = () => { drag = null; svg.classList.remove("dragging"); };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);
  document.getElementById("reset").addEventListener("click", () => setView(0, runUs));
  window.addEventListener("resize", schedule);

  fillText();
  legend();
  viewFromHash();
  const drawn = render();
  // For tests and tools: what the first, full view drew.
  body.dataset.leases = drawn.leases;
  body.dataset.faults = drawn.faults;
  body.dataset.writes = drawn.writes;
  body.dataset.refusals = drawn.refusals;
  body.dataset.violations = drawn.violations;
  if (!body.dataset.error) body.dataset.rendered = "ok";
})();
)js";

}  // namespace lockmesh::sim
