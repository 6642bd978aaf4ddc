#!/usr/bin/env bash
# The fault benchmark of docs/evals.md: KILLS kills of Chromium (SIGKILL to
# a browser's main process, one every INTERVAL seconds, each of a browser
# picked at random among pilot's) during an EPISODES-episode
# shop run in Chromium with --retries 2, then the same run undisturbed;
# prints both tables. Needs bin/pilot (make build) and Chromium.
#
#   scripts/chromium-kills.sh            # 20 kills, 60 episodes
#   KILLS=5 EPISODES=20 scripts/chromium-kills.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${KILLS:-20} EPISODES=${EPISODES:-60} INTERVAL=${INTERVAL:-2.5}
out=$(mktemp -d)
bin/pilot eval --suite shop --episodes "$EPISODES" --workers 2 --retries 2 --run-dir "$out/killed" >"$out/killed.txt" 2>"$out/killed.log" &
pid=$!
sleep 5
killed=0
for ((i = 0; i < KILLS; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	# a browser that pilot started (its --user-data-dir), not a child
	# process (--type=renderer and the like); not always the oldest, which
	# would aim every kill at the worker playing the longest episode
	victim=$(for p in $(pgrep -f 'chromium.*--user-data-dir=.*pilot' || true); do
		{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qv -- '--type=' && echo "$p"
	done | shuf -n 1 || true)
	if [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null; then killed=$((killed + 1)); fi
	sleep "$INTERVAL"
done
wait "$pid" || true
bin/pilot eval --suite shop --episodes "$EPISODES" --workers 2 --run-dir "$out/calm" >"$out/calm.txt" 2>"$out/calm.log"
echo "== $killed Chromium kills during $EPISODES episodes (--retries 2):"
cat "$out/killed.txt"
echo "errors retried: $(grep -c 'playing it again' "$out/killed.log" || true)"
echo "== undisturbed:"
cat "$out/calm.txt"
echo "(runs in $out)"
