// The first part of the timeline page's script (see sim/timeline_script.h): the
// data made ready once, and the drawing of the current view as SVG. Plain
// ES2017, no library, nothing fetched; only what is in view is drawn.
#include "sim/timeline_script.h"

namespace lockmesh::sim {

extern const absl::string_view kTimelineDrawScript = R"js("use strict";
(function () {
  const body = document.body;
  function fail(message) {
    body.dataset.error = message;
    const box = document.getElementById("error");
    box.hidden = false;
    box.textContent = "The timeline could not be drawn: " + message;
  }
  window.addEventListener("error", (e) => fail(String(e.message || "unknown error")));

  const D = JSON.parse(document.getElementById("timeline-data").textContent);
  const svg = document.getElementById("chart");
  const NS = svg.namespaceURI;  // the SVG namespace, without writing its address here
  const tooltip = document.getElementById("tooltip");
  const runUs = Math.max(1, D.scenario.run_us);
  const view = { t0: 0, t1: runUs };
  const MIN_SPAN_US = 200;

  const PALETTE = ["#2563eb", "#0d9488", "#7c3aed", "#0891b2", "#4f46e5", "#15803d", "#c026d3",
                   "#1e40af"];
  const OWN_COLOUR = "#64748b";
  const TINTS = ["#fde68a", "#c7d2fe", "#a7f3d0", "#fbcfe8", "#a5f3fc", "#fed7aa", "#ddd6fe",
                 "#d9f99d"];
  const FAULT_COLOUR = { network: "#7c3aed", link: "#0369a1", crash: "#111827",
                         restart: "#15803d", pause: "#b45309", clock: "#be185d", slow: "#92400e" };
  const C = { written: "#94a3b8", refused: "#ea580c", violation: "#dc2626", quiet: "#16a34a",
              lost: "#7f1d1d", renewFailed: "#d97706", wait: "#9ca3af", grid: "#eef0f3",
              line: "#e5e7eb" };

  // ---- what the data says, computed once ----
  const resourceColour = new Map();
  for (const l of D.leases) {
    if (!resourceColour.has(l.resource) && !l.resource.startsWith("own-")) {
      resourceColour.set(l.resource, PALETTE[resourceColour.size % PALETTE.length]);
    }
  }
  const colourOf = (r) => resourceColour.get(r) || OWN_COLOUR;

  // One row per client of a node, in client order.
  const clientsOf = D.nodes.map(() => new Set());
  for (const r of D.leases.concat(D.waits)) clientsOf[r.node].add(r.client);
  const rowOf = new Map();
  clientsOf.forEach((set, node) => {
    [...set].sort((a, b) => a - b).forEach((c, i) => rowOf.set(node + ":" + c, i));
  });
  const row = (node, client) => rowOf.get(node + ":" + client) || 0;

  const compact = D.nodes.length > 24;
  const SUB = compact ? 12 : 30;  // height of one client's row
  const BAR = compact ? 8 : 18;
  const PAD = compact ? 2 : 8;
  const LEFT = 104, RIGHT = 14, FAULT_ROW = 54, STORE_ROW = 46, AXIS = 30;

  let y = 4;
  const faultsLane = { y, h: FAULT_ROW };
  y += FAULT_ROW;
  const nodeLanes = D.nodes.map((n, i) => {
    const h = Math.max(compact ? 14 : 46, PAD * 2 + Math.max(1, clientsOf[i].size) * SUB);
    const lane = { y, h };
    y += h;
    return lane;
  });
  const storeLane = { y, h: STORE_ROW };
  y += STORE_ROW;
  const axisY = y;
  const HEIGHT = y + AXIS;

  // Partitions: each network state that cuts a link, with the sides it makes
  // (nodes that reach and hear the same nodes are on one side).
  const partitions = [];
  D.network.forEach((state, i) => {
    const n = state.reach.length;
    let cut = false;
    const keys = [];
    for (let a = 0; a < n; a++) {
      let hears = "";
      for (let b = 0; b < n; b++) {
        hears += state.reach[b][a];
        if (a !== b && state.reach[a][b] === "0") cut = true;
      }
      keys.push(state.reach[a] + "|" + hears);
    }
    if (!cut) return;
    const groups = new Map();
    keys.forEach((k, a) => { if (!groups.has(k)) groups.set(k, []); groups.get(k).push(a); });
    const sides = [...groups.values()].sort((p, q) => q.length - p.length || p[0] - q[0]);
    const side = new Array(n);
    sides.forEach((g, s) => g.forEach((a) => { side[a] = s; }));
    const next = D.network[i + 1];
    partitions.push({ start: state.at, end: next ? next.at : runUs, state, side,
                      sides: sides.length });
  });
  function reachText(state, a) {
    const names = (pick) => {
      const out = [];
      state.reach.forEach((r, b) => { if (b !== a && pick(b)) out.push(D.nodes[b].name); });
      return out.length ? out.join(", ") : "nobody";
    };
    return D.nodes[a].name + " reaches " + names((b) => state.reach[a][b] === "1") +
           "; hears " + names((b) => state.reach[b][a] === "1");
  }

  // ---- formatting ----
  const fmt = (us) => (us / 1e6).toFixed(Math.abs(us) >= 1e8 ? 2 : 3) + "s";
  const dur = (us) => us >= 1e6 ? (us / 1e6).toFixed(2) + "s" : (us / 1e3).toFixed(1) + "ms";
  const measure = document.createElement("canvas").getContext("2d");
  const textWidth = (s, px, weight) => {
    measure.font = (weight || 400) + " " + px + "px system-ui, \"DejaVu Sans\", sans-serif";
    return measure.measureText(s).width;
  };

  function el(parent, name, attrs, tip) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (tip) e.tip = tip;
    parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, cls, extra) {
    const t = el(parent, "text", Object.assign({ x, y, class: cls }, extra || {}));
    t.textContent = s;
    return t;
  }
  function pattern(defs, id, back, stripe) {
    const p = el(defs, "pattern", { id, width: 6, height: 6, patternUnits: "userSpaceOnUse",
                                    patternTransform: "rotate(45)" });
    if (back) el(p, "rect", { width: 6, height: 6, fill: back });
    el(p, "line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: stripe, "stroke-width": 2.5 });
  }
  function tickStep(span, plotW) {
    const target = span / Math.max(2, plotW / 105);
    const p = Math.pow(10, Math.floor(Math.log10(target)));
    for (const m of [1, 2, 5, 10]) if (m * p >= target) return m * p;
    return 10 * p;
  }

  // ---- drawing ----
  let frame = 0;
  function schedule() {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); });
  }
  function setView(t0, span) {
    span = Math.max(MIN_SPAN_US, Math.min(runUs, span));
    t0 = Math.max(0, Math.min(runUs - span, t0));
    view.t0 = t0;
    view.t1 = t0 + span;
    schedule();
  }
  // The view can be named in the address, e.g. page.html#3s-5.5s, to share it.
  function viewFromHash() {
    const m = /^#([0-9.]+)s-([0-9.]+)s$/.exec(window.location.hash);
    if (!m) return;
    const t0 = parseFloat(m[1]) * 1e6, t1 = parseFloat(m[2]) * 1e6;
    if (t1 > t0) setView(t0, t1 - t0);
  }
  function viewToHash() {
    const name = "#" + (view.t0 / 1e6).toFixed(6).replace(/\.?0+$/, "") + "s-" +
                 (view.t1 / 1e6).toFixed(6).replace(/\.?0+$/, "") + "s";
    const full = view.t0 === 0 && view.t1 === runUs;
    try {
      history.replaceState(null, "", full ? window.location.pathname : name);
    } catch (e) {
      // Some browsers refuse to change a file's address: the view still works.
    }
  }

  function render() {
    const W = Math.max(760, svg.parentNode.clientWidth);
    const plotW = W - LEFT - RIGHT;
    const span = view.t1 - view.t0;
    const x = (t) => LEFT + (t - view.t0) / span * plotW;
    const cx = (t) => Math.max(LEFT - 3, Math.min(LEFT + plotW + 3, x(t)));
    const seen = (s, e) => e >= view.t0 && s <= view.t1;
    const drawn = { leases: 0, faults: 0, refusals: 0, violations: 0, writes: 0 };

    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("width", W);
    svg.setAttribute("height", HEIGHT);
    svg.setAttribute("viewBox", "0 0 " + W + " " + HEIGHT);
    const defs = el(svg, "defs", {});
    const clip = el(defs, "clipPath", { id: "plot-clip" });
    el(clip, "rect", { x: LEFT, y: 0, width: plotW, height: HEIGHT });
    pattern(defs, "hatch-down", "#e5e7eb", "#9ca3af");
    pattern(defs, "hatch-pause", "#fef3c7", "#f59e0b");
    pattern(defs, "hatch-stale", null, "rgba(255,255,255,0.75)");

    const back = el(svg, "g", {});
    const plot = el(svg, "g", { "clip-path": "url(#plot-clip)" });
    const front = el(svg, "g", { "clip-path": "url(#plot-clip)" });
    const gutter = el(svg, "g", {});

    // Lanes and their names.
    const lanes = [faultsLane].concat(nodeLanes, [storeLane]);
    lanes.forEach((lane, i) => {
      el(back, "rect", { x: 0, y: lane.y, width: W, height: lane.h,
                         fill: i === 0 || i === lanes.length - 1 ? "#f8fafc" : "#fff" });
      el(back, "line", { x1: 0, x2: W, y1: lane.y + lane.h, y2: lane.y + lane.h, stroke: C.line });
    });
    const label = (lane, name, role) => {
      const mid = lane.y + lane.h / 2;
      text(gutter, 12, role && !compact ? mid - 1 : mid + 4, name, "lane-name");
      if (role && !compact) text(gutter, 12, mid + 12, role, "lane-role");
      if (role && compact) text(gutter, 50, mid + 4, role, "lane-role");
    };
    label(faultsLane, "faults", "network, processes");
    D.nodes.forEach((n, i) => label(nodeLanes[i], n.name, n.voter ? "voter" : "member"));
    label(storeLane, "fenced store", "writes, refusals");
    el(gutter, "line", { x1: LEFT, x2: LEFT, y1: faultsLane.y, y2: axisY, stroke: "#d1d5db" });

    // Time grid and axis.
    const step = tickStep(span, plotW);
    const decimals = Math.min(6, Math.max(0, Math.ceil(-Math.log10(step / 1e6) - 1e-9)));
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1 + 1e-6; t += step) {
      const px = x(t);
      el(back, "line", { x1: px, x2: px, y1: faultsLane.y, y2: axisY, stroke: C.grid });
      el(back, "line", { x1: px, x2: px, y1: axisY, y2: axisY + 5, stroke: "#9ca3af" });
      text(back, px, axisY + 17, (t / 1e6).toFixed(decimals) + "s", "axis",
           { "text-anchor": "middle" });
    }
    text(gutter, 12, axisY + 17, "simulated time", "axis");

    // Partitions: each side's lanes tinted; a band in the faults lane.
    for (const p of partitions) {
      if (!seen(p.start, p.end)) continue;
      const x0 = cx(p.start), w = Math.max(1, cx(p.end) - x0);
      const head = "network partitioned " + fmt(p.start) + " to " + fmt(p.end) + " (" +
                   p.sides + " sides)";
      D.nodes.forEach((n, a) => {
        const lane = nodeLanes[a];
        el(plot, "rect", { x: x0, y: lane.y, width: w, height: lane.h,
                           fill: TINTS[p.side[a] % TINTS.length], opacity: 0.6 },
           head + "\n" + reachText(p.state, a));
      });
      el(plot, "rect", { x: x0, y: faultsLane.y + FAULT_ROW - 9, width: w, height: 6, rx: 2,
                         fill: FAULT_COLOUR.network, opacity: 0.55 },
         head + "\n" + p.state.description);
    }

    // Stretches down (crashed, not started) and paused.
    const spans = (list, fill) => {
      for (const s of list) {
        const end = s.end < 0 ? runUs : s.end;
        if (!seen(s.start, end)) continue;
        const lane = nodeLanes[s.node];
        const x0 = cx(s.start), w = Math.max(2, cx(end) - x0);
        const g = el(plot, "g", {}, D.nodes[s.node].name + " " + s.what + "\nfrom " +
                     fmt(s.start) + " to " + fmt(end) + " (" + dur(end - s.start) + ")");
        el(g, "rect", { x: x0, y: lane.y + 1, width: w, height: lane.h - 2, fill });
        const name = s.what.split(" for ")[0];
        const vis0 = Math.max(x0, LEFT), vis1 = Math.min(x0 + w, LEFT + plotW);
        if (!compact && vis1 - vis0 > textWidth(name, 10) + 8) {
          text(g, vis0 + 4, lane.y + lane.h - 5, name, "span-label");
        }
      }
    };
    spans(D.down, "url(#hatch-down)");
    spans(D.pauses, "url(#hatch-pause)");

    // Waits for a grant: a dashed line under the client's row.
    if (!compact) {
      for (const w of D.waits) {
        const end = w.end < 0 ? runUs : w.end;
        if (!seen(w.start, end)) continue;
        const yy = nodeLanes[w.node].y + PAD + row(w.node, w.client) * SUB + BAR + 4;
        const g = el(plot, "g", {}, D.nodes[w.node].name + " c" + w.client + " waits for " +
                     w.resource + "\nfrom " + fmt(w.start) + " to " + fmt(end) + " (" +
                     dur(end - w.start) + "): " + (w.how || "still waiting"));
        const x0 = cx(w.start), x1 = Math.max(x0 + 1, cx(end));
        el(g, "line", { x1: x0, x2: x1, y1: yy, y2: yy, stroke: C.wait, "stroke-width": 1.5,
                        "stroke-dasharray": "3 3" });
        el(g, "line", { x1: x0, x2: x1, y1: yy, y2: yy, stroke: "transparent",
                        "stroke-width": 7 });
      }
    }

    // Leases: solid while valid, hatched from the deadline to when the holder was told.
    for (const l of D.leases) {
      const end = l.end < 0 ? runUs : l.end;
      if (!seen(l.start, end)) continue;
      const lane = nodeLanes[l.node];
      const top = lane.y + PAD + row(l.node, l.client) * SUB;
      const validEnd = Math.min(end, Math.max(l.start, l.valid_until));
      const colour = colourOf(l.resource);
      let tip = D.nodes[l.node].name + " c" + l.client + " held " + l.resource + "  token " +
                l.token + "\ngranted " + fmt(l.start) + ", " + (l.how || "held") + " " +
                fmt(end) + " (" + dur(end - l.start) + ")" +
                (l.renewals ? "\nrenewed " + l.renewals + " time" + (l.renewals > 1 ? "s" : "")
                            : "");
      if (l.renew_failed.length) tip += "\n" + l.renew_failed.length + " renewal(s) failed";
      if (end > validEnd) {
        tip += "\nits deadline passed at " + fmt(validEnd) + "; " + D.nodes[l.node].name +
               " learned it only at " + fmt(end);
      }
      const g = el(plot, "g", {}, tip);
      const x0 = cx(l.start), x1 = Math.max(x0 + 1.5, cx(validEnd));
      el(g, "rect", { x: x0, y: top, width: x1 - x0, height: BAR, rx: 2, fill: colour });
      if (end > validEnd) {
        const x2 = Math.max(x1 + 1, cx(end));
        el(g, "rect", { x: x1, y: top, width: x2 - x1, height: BAR, fill: "#fff" });
        el(g, "rect", { x: x1, y: top, width: x2 - x1, height: BAR, fill: colour,
                        opacity: 0.35 });
        el(g, "rect", { x: x1, y: top, width: x2 - x1, height: BAR, fill: "url(#hatch-stale)" });
      }
      if (l.how === "lost") {
        const xe = cx(end);
        el(g, "rect", { x: xe - 1.5, y: top - 3, width: 3, height: BAR + 6, fill: C.lost });
      }
      for (const t of l.renew_failed) {
        if (!seen(t, t)) continue;
        const xt = x(t);
        el(g, "path", { d: "M" + (xt - 4) + " " + (top - 5) + "h8l-4 6z", fill: C.renewFailed });
      }
      const vis0 = Math.max(x0, LEFT), vis1 = Math.min(x1, LEFT + plotW);
      if (!compact) {
        const full = l.resource + "  " + l.token;
        const s = vis1 - vis0 > textWidth(full, 11, 600) + 12 ? full
                : vis1 - vis0 > textWidth(l.token, 11, 600) + 10 ? l.token : "";
        if (s) text(g, vis0 + 5, top + BAR - 4.5, s, "bar-label");
      }
      drawn.leases++;
    }

    // Faults: a marker per fault in the faults lane (labels where they fit, in two
    // rows), and on the lane of the node a fault hit.
    const labelEnds = [-Infinity, -Infinity];
    const place = (px, s, colour, tip) => {
      const w = textWidth(s, 10.5);
      for (let r = 0; r < labelEnds.length; r++) {
        if (px + 6 > labelEnds[r] + 10 && px + 6 + w < LEFT + plotW) {
          labelEnds[r] = px + 6 + w;
          text(front, px + 6, faultsLane.y + 15 + r * 14, s, "fault-label", { fill: colour })
            .tip = tip;
          return;
        }
      }
    };
    const marks = [];
    for (const f of D.faults) {
      marks.push({ at: f.at, text: f.text, colour: FAULT_COLOUR[f.kind] || "#374151",
                   tip: "fault at " + fmt(f.at) + ": " + f.text, node: f.node, fault: true });
    }
    if (D.faults.length && D.scenario.quiet_us >= 0) {
      marks.push({ at: D.scenario.quiet_us, text: "faults stop", colour: C.quiet, node: -1,
                   tip: "faults stop at " + fmt(D.scenario.quiet_us) +
                        ": the network heals, crashed nodes restart, pauses end, clocks " +
                        "return in bound" });
    }
    D.violations.forEach((v) => marks.push({
      at: v.at, text: v.property + " violated", colour: C.violation, node: -1, violation: v,
      tip: "VIOLATION " + v.property + " at " + fmt(v.at) + "\n" + v.detail }));
    marks.sort((a, b) => a.at - b.at);
    for (const m of marks) {
      if (!seen(m.at, m.at)) continue;
      const px = x(m.at);
      const base = faultsLane.y + FAULT_ROW - 11;
      if (m.violation) {
        el(front, "line", { x1: px, x2: px, y1: faultsLane.y + 2, y2: storeLane.y + STORE_ROW,
                            stroke: C.violation, "stroke-width": 2 }, m.tip);
        el(front, "path", { d: "M" + px + " " + (base - 12) + "l6 6-6 6-6-6z", fill: C.violation },
           m.tip);
        const named = new Set((m.violation.detail.match(/\bn\d+\b/g) || []));
        D.nodes.forEach((n, a) => {
          if (!named.has(n.name)) return;
          const lane = nodeLanes[a];
          el(front, "circle", { cx: px, cy: lane.y + lane.h / 2, r: 7, fill: "none",
                                stroke: C.violation, "stroke-width": 2.5 }, m.tip);
        });
        drawn.violations++;
      } else if (!m.fault) {
        el(front, "line", { x1: px, x2: px, y1: faultsLane.y + 2, y2: storeLane.y + STORE_ROW,
                            stroke: m.colour, "stroke-width": 1.5, "stroke-dasharray": "6 4" },
           m.tip);
      } else {
        el(front, "path", { d: "M" + (px - 5) + " " + (base - 8) + "h10l-5 8z", fill: m.colour },
           m.tip);
        el(front, "line", { x1: px, x2: px, y1: base, y2: faultsLane.y + FAULT_ROW,
                            stroke: m.colour, "stroke-width": 1 });
        if (m.node >= 0) {
          const lane = nodeLanes[m.node];
          el(front, "path", { d: "M" + (px - 4) + " " + lane.y + "h8l-4 6z", fill: m.colour },
             m.tip);
          el(front, "line", { x1: px, x2: px, y1: lane.y, y2: lane.y + lane.h, stroke: m.colour,
                              "stroke-width": 1, "stroke-dasharray": "2 2", opacity: 0.7 });
        }
        drawn.faults++;
      }
      place(px, m.text, m.colour, m.tip);
    }

    // The fenced store: a tick per accepted write (one per pixel), a tall orange
    // tick per refused operation, red for a lost update.
    const mid = storeLane.y + STORE_ROW / 2;
    const perPixel = new Map();
    for (const s of D.store) {
      if (!seen(s.at, s.at) || s.outcome !== "written") continue;
      const px = Math.round(x(s.at));
      const first = perPixel.get(px);
      if (first) { first.count++; continue; }
      perPixel.set(px, { s, count: 1 });
    }
    for (const [px, { s, count }] of perPixel) {
      el(front, "line", { x1: px, x2: px, y1: mid - 6, y2: mid + 6, stroke: C.written,
                          "stroke-width": 1 },
         "fenced write accepted: " + s.resource + " by " + D.nodes[s.node].name + " c" +
         s.client + " with token " + s.token + " at " + fmt(s.at) +
         (count > 1 ? "\n(" + (count - 1) + " more accepted within this pixel)" : ""));
      drawn.writes += count;
    }
    for (const s of D.store) {
      if (!seen(s.at, s.at) || s.outcome === "written") continue;
      const px = x(s.at);
      const colour = s.outcome === "lost update" ? C.violation : C.refused;
      const tip = "fenced store: " + s.outcome + " at " + fmt(s.at) + "\n" + s.resource +
                  " from " + D.nodes[s.node].name + " c" + s.client + " with token " + s.token +
                  (s.outcome === "lost update" ? "\nthe write was based on a replaced version"
                                               : " < highest " + s.highest);
      el(front, "line", { x1: px, x2: px, y1: mid - 16, y2: mid + 16, stroke: colour,
                          "stroke-width": 2.5 }, tip);
      el(front, "circle", { cx: px, cy: mid - 16, r: 4, fill: colour }, tip);
      drawn.refusals++;
    }

    document.getElementById("range").textContent =
        "showing " + fmt(view.t0) + " to " + fmt(view.t1) + " of " + fmt(runUs);
    viewToHash();
    return drawn;
  }

)js";

}  // namespace lockmesh::sim
