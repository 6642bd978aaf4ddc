#!/usr/bin/env bash
# Measures pilot serve from a Python client (standard library, one
# keep-alive connection): the latency of a reset (POST
# /v1/sessions/{id}/reset) and of a step (POST /v1/sessions/{id}/step) on
# the shop, in the lite engine and then in Chromium. Each episode resets on
# the next test task and takes three steps: fill the search box, click
# Search (a navigation to the results), click the first result (another).
# It builds bin/pilot, serves each engine on a free port of 127.0.0.1,
# and stops the server at the end, or on Ctrl-C.
#
# Usage: scripts/bench-serve.sh [episodes] [seconds]
#   at most that many episodes per engine (default 200), and at most that
#   many seconds of them (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
episodes="${1:-200}"
seconds="${2:-60}"
make -s build
tmp=$(mktemp -d)
pid=""
stop() {
  if [ -n "$pid" ]; then
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
trap 'stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

cat > "$tmp/bench.py" <<'EOF'
import http.client, json, re, statistics, sys, time, urllib.parse

base, episodes, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
u = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)

def call(method, path, body=None):
    conn.request(method, path, None if body is None else json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    out = json.loads(resp.read())
    if resp.status >= 300:
        sys.exit("%s %s: %d %s" % (method, path, resp.status, out.get("error")))
    return out

def timed(method, path, body=None):
    t = time.perf_counter()
    out = call(method, path, body)
    return out, (time.perf_counter() - t) * 1000

def first(obs, role, label):
    return [i for i, n in re.findall(r'\[(\d+)\] %s "(%s[^"]*)"' % (role, re.escape(label)), obs["text"]) if n != "Back to Search"][0]

tasks = call("GET", "/v1/suite")["tasks"]
s, open_ms = timed("POST", "/v1/sessions", {"index": 0})
sid = s["session"]
resets, steps, kinds = [], [], {"fill": [], "click Search": [], "click a result": []}
start = time.perf_counter()
for ep in range(episodes):
    if time.perf_counter() - start > seconds:
        break
    r, ms = timed("POST", "/v1/sessions/%s/reset" % sid, {"index": ep % len(tasks)})
    resets.append(ms)
    obs = r["observation"]
    for kind, role, label, act in [("fill", "searchbox", "Search", 'fill("%s", "usb cable")'), ("click Search", "button", "Search", 'click("%s")'), ("click a result", "link", "", 'click("%s")')]:
        r, ms = timed("POST", "/v1/sessions/%s/step" % sid, {"action": act % first(obs, role, label)})
        steps.append(ms)
        kinds[kind].append(ms)
        obs = r["observation"]
        if obs["error"]:
            sys.exit("step %s: %s" % (r["action"], obs["error"]))
call("DELETE", "/v1/sessions/" + sid)

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

print("open %.1f ms; %d resets: p50 %.2f ms, p95 %.2f ms; %d steps: p50 %.2f ms, p95 %.2f ms (mean %.2f)" % (
    open_ms, len(resets), pct(resets, 50), pct(resets, 95), len(steps), pct(steps, 50), pct(steps, 95), statistics.mean(steps)))
print("          " + "; ".join("%s p50 %.2f ms, p95 %.2f ms" % (k, pct(v, 50), pct(v, 95)) for k, v in kinds.items()))
EOF

for engine in lite chromium; do
  bin/pilot serve --suite shop --engine "$engine" --max-sessions 1 --addr 127.0.0.1:0 > "$tmp/$engine.out" 2> "$tmp/$engine.err" &
  pid=$!
  url=""
  for _ in $(seq 600); do
    url=$(sed -n 's/^pilot serve: listening on \(http:[^ ]*\) .*/\1/p' "$tmp/$engine.out")
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/$engine.err" >&2; exit 1; }
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "scripts/bench-serve.sh: pilot serve --engine $engine printed no address within a minute" >&2
    cat "$tmp/$engine.err" >&2
    exit 1
  fi
  printf '%-8s ' "$engine:"
  python3 "$tmp/bench.py" "$url" "$episodes" "$seconds"
  stop
done
