#!/usr/bin/env bash
# The resume benchmark of docs/evals.md: a 200-episode shop run in the lite
# engine killed with SIGKILL at KILLS random moments, each followed by a
# resume, then compared with an uninterrupted run: lost, duplicated and
# differing episodes. Needs bin/pilot (make build) and python3.
#
#   scripts/lite-kills.sh            # 10 kills
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${KILLS:-10} SEED=${SEED:-1}
out=$(mktemp -d)
args=(eval --suite shop --engine lite --split test --episodes 200)
bin/pilot "${args[@]}" --run-dir "$out/calm" >/dev/null 2>&1
RANDOM=$SEED
bin/pilot "${args[@]}" --run-dir "$out/killed" >/dev/null 2>&1 &
pid=$!
kills=0
for ((i = 0; i < 100 && kills < KILLS; i++)); do
	sleep "0.$(printf "%03d" $((RANDOM % 60 + 20)))"
	if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
	wait "$pid" 2>/dev/null || true
	if bin/pilot runs show "$out/killed" 2>/dev/null | grep -q "state complete"; then break; fi
	bin/pilot eval --resume "$out/killed" >/dev/null 2>&1 &
	pid=$!
done
wait "$pid" || true
bin/pilot eval --resume "$out/killed" >/dev/null 2>&1
bin/pilot runs export "$out/calm" >"$out/calm.jsonl"
bin/pilot runs export "$out/killed" >"$out/killed.jsonl"
python3 - "$out" "$kills" <<'PY'
import json, sys
out, kills = sys.argv[1], sys.argv[2]
def load(name):
    rows = [json.loads(l) for l in open(f"{out}/{name}.jsonl")]
    return rows, {r["task_id"]: (r["outcome"], r["reward"], r["steps"]) for r in rows}
calm_rows, calm = load("calm")
killed_rows, killed = load("killed")
lost = len(set(calm) - set(killed))
dup = len(killed_rows) - len(killed)
diff = sum(1 for k in calm if k in killed and calm[k] != killed[k])
print(f"{kills} kills of 200 lite episodes, each resumed: {len(killed)} episodes, {lost} lost, {dup} duplicated, {diff} differ from the uninterrupted run")
PY
echo "(runs in $out)"
