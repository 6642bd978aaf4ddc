# Sourced by the peer scripts (bench-peer.sh, tokens.sh): peer_install PKG
# installs an npm package into .cache/peer once, after checking for Node.
peer=.cache/peer

peer_install() {
  if ! command -v node >/dev/null 2>&1; then
    echo "$0: node not found: install Node.js 18 or later (apt-get install nodejs)" >&2
    exit 1
  fi
  local name="${1%@*}"
  if [ ! -d "$peer/node_modules/$name" ]; then
    mkdir -p "$peer"
    echo "installing $1 into $peer (npm)…" >&2
    (cd "$peer" && { [ -f package.json ] || npm init -y >/dev/null; } &&
      PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund "$1" >/dev/null)
  fi
}
