#!/usr/bin/env bash
# Measures a web step side by side with Playwright, in one run, on the same
# page (env/web/testdata/bench200.html, about 200 elements) in the same
# Chromium: pilot's click + settle + observation (go test -bench
# BenchmarkStepClick) against Playwright's locator.click + ariaSnapshot.
# It installs playwright-core from npm into .cache/peer (no browser is
# downloaded: Playwright drives /usr/bin/chromium, or $PILOT_CHROME).
#
# Usage: scripts/bench-peer.sh [steps]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-300}"
chrome="${PILOT_CHROME:-/usr/bin/chromium}"
if [ ! -x "$chrome" ]; then
  echo "scripts/bench-peer.sh: no Chromium at $chrome: run scripts/deps.sh chromium, or set PILOT_CHROME" >&2
  exit 1
fi
. scripts/peer/npm.sh
peer_install playwright-core@1
cp scripts/peer/playwright-step.mjs "$peer/"

echo "pilot (env/web):" >&2
pilot=$(go test -count=1 -run '^$' -bench 'BenchmarkStepClick$' -benchtime "${steps}x" ./env/web/ | awk '/^BenchmarkStepClick/ {for (i = 1; i < NF; i++) if ($(i+1) == "median-ms") print $i}')
echo "playwright:" >&2
pw=$(node "$peer/playwright-step.mjs" "$PWD/env/web/testdata/bench200.html" "$steps" "$chrome")
pwmed=$(printf '%s' "$pw" | sed -n 's/.*"step_median_ms":\([0-9.]*\).*/\1/p')
echo "pilot step (click + settle + observation): median $pilot ms"
echo "playwright (click + ariaSnapshot):         median $pwmed ms   $pw"
awk -v a="$pilot" -v b="$pwmed" 'BEGIN { printf "pilot is %.1fx faster\n", b / a }'
