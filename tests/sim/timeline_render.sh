#!/usr/bin/env bash
# Renders a scenario's timeline page (lockmesh-sim run FILE --html) in headless
# Chromium and requires: the page's script drew without an error (the page sets
# data-rendered="ok", an error sets data-error), no uncaught error or console
# error, a lease bar per grant and a store mark per refusal of the run's own
# report, and a screenshot that is not blank and shows the lease bars' colour.
#
#   timeline_render.sh SIM SCENARIO PNG_CHECK OUT_DIR
#
# Exit 77 (ctest: skipped) when chromium or the PNG checker (needs zlib) is absent;
# tools/dev test installs both.
set -euo pipefail
sim="$1" scenario="$2" png_check="$3" out="$4"
# The first resource's lease colour on the page (sim/timeline_script.cc, PALETTE).
lease_colour=2563eb
bound_s=120  # generous: a cold start of the browser on a busy 2-core machine

browser="$(command -v chromium || true)"
if [ -z "$browser" ]; then
  echo "chromium is not installed: skipped (tools/dev test installs it)"
  exit 77
fi
if [ -z "$png_check" ] || [ ! -x "$png_check" ]; then
  echo "the PNG checker was not built (zlib missing): skipped (tools/dev test installs zlib1g-dev)"
  exit 77
fi
rm -rf "$out"
mkdir -p "$out"
page="$out/timeline.html"
"$sim" run "$scenario" --quiet --html "$page" >"$out/report.txt"
grants="$(sed -n 's/^leases: [0-9]* requests, \([0-9]*\) grants.*/\1/p' "$out/report.txt")"
refused="$(awk '/stale operations refused/ { for (i = 1; i < NF; i++) if ($(i + 1) == "stale") n += $i } END { print n + 0 }' "$out/report.txt")"
echo "report: $grants grants, $refused stale operations refused; page $(wc -c <"$page") bytes"
[ -n "$grants" ] || { echo "no grant count in the report"; exit 1; }

chrome() {  # ARGS...: one headless run with a profile of its own, bounded
  timeout "$bound_s" "$browser" --headless=new --no-sandbox --disable-gpu \
    --user-data-dir="$out/profile" --no-first-run "$@"
}

chrome --enable-logging=stderr --v=0 --dump-dom "file://$page" >"$out/dom.html" 2>"$out/console.txt"
rendered="$(grep -o 'data-rendered="[^"]*"' "$out/dom.html" || true)"
error="$(grep -o 'data-error="[^"]*"' "$out/dom.html" || true)"
leases="$(grep -o 'data-leases="[0-9]*"' "$out/dom.html" | grep -o '[0-9]*' || true)"
refusals="$(grep -o 'data-refusals="[0-9]*"' "$out/dom.html" | grep -o '[0-9]*' || true)"
echo "page: ${rendered:-not rendered} ${error} leases=${leases:-?} refusals=${refusals:-?}"
status=0
[ "$rendered" = 'data-rendered="ok"' ] || { echo "FAIL: the page did not finish drawing"; status=1; }
[ -z "$error" ] || { echo "FAIL: the page reported an error"; status=1; }
if grep -E 'Uncaught|CONSOLE.*(Error|error)' "$out/console.txt"; then
  echo "FAIL: errors on the console"
  status=1
fi
[ "$leases" = "$grants" ] || { echo "FAIL: $leases lease bars for $grants grants"; status=1; }
[ "$refusals" = "$refused" ] || { echo "FAIL: $refusals refusals drawn, $refused refused"; status=1; }

chrome --screenshot="$out/timeline.png" --window-size=1400,900 "file://$page" \
  >"$out/screenshot.txt" 2>&1
"$png_check" "$out/timeline.png" "$lease_colour" || { echo "FAIL: the screenshot"; status=1; }
exit "$status"
