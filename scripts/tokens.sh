#!/usr/bin/env bash
# Measures the size of pilot's observations on realistic pages (the shop,
# TodoMVC, a MiniWoB++-style flight form, a long article, a 1,000-row
# table, a docs page: env/web/testdata/pages), in cl100k_base tokens
# counted by js-tiktoken (installed from npm into .cache/peer) against
# pilot's own estimate (env.EstimateTokens), whole and under
# --obs-max-tokens 2000.
#
# Usage: scripts/tokens.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/peer/npm.sh
peer_install js-tiktoken@1
cp scripts/peer/count-tokens.mjs "$peer/"
dump=$(mktemp -d)
trap 'rm -rf "$dump"' EXIT
PILOT_DUMP_OBS="$dump" go test -count=1 -run '^$' -bench ObsTokens -benchtime 1x ./env/web/ ./env/shop/ | grep -E '^Benchmark'
go run ./scripts/peer/estimate.go "$dump"
node "$peer/count-tokens.mjs" "$dump"
