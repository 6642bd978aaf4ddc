#!/usr/bin/env bash
# Installs what pilot's tests and demo need and are missing: Chromium,
# OpenCV 4 (libopencv-dev, found through pkg-config) for the gocv-tagged
# camera code and tests (`go build -tags gocv`), and Debian's python3, which
# runs docs/serve.md's Python client in the tests.
# It uses apt-get when it can (as root, or with password-less sudo) and
# otherwise says what to run. PILOT_CHROME points at a browser you already have.
#
# Usage: scripts/deps.sh [chromium] [opencv] [python3]   (no arguments: all)
set -euo pipefail

want_chromium=0
want_opencv=0
want_python=0
if [ "$#" -eq 0 ]; then
  set -- chromium opencv python3
fi
for dep in "$@"; do
  case "$dep" in
    chromium) want_chromium=1 ;;
    opencv) want_opencv=1 ;;
    python3) want_python=1 ;;
    *) echo "scripts/deps.sh: unknown dependency \"$dep\": use chromium, opencv and/or python3" >&2; exit 2 ;;
  esac
done

have_chrome() {
  if [ -n "${PILOT_CHROME:-}" ]; then
    command -v "$PILOT_CHROME" >/dev/null 2>&1 && return 0
    echo "PILOT_CHROME=$PILOT_CHROME is not an executable; unset it or fix the path" >&2
    exit 1
  fi
  for c in /usr/bin/chromium chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$c" >/dev/null 2>&1 && return 0
  done
  return 1
}

# gocv's cgo build finds OpenCV with `pkg-config opencv4`.
have_opencv() {
  command -v pkg-config >/dev/null 2>&1 && pkg-config --exists opencv4
}

if ! command -v go >/dev/null 2>&1; then
  echo "go not found: install Go 1.26 or newer (https://go.dev/doc/install) and put it on PATH" >&2
  exit 1
fi

packages=()   # what apt-get installs
missing=()    # what to tell the user when it cannot
if [ "$want_chromium" -eq 1 ] && ! have_chrome; then
  packages+=(chromium)
  missing+=("chromium not found: install it with \`sudo apt-get install chromium\` or set PILOT_CHROME to a Chromium or Chrome binary")
fi
if [ "$want_opencv" -eq 1 ] && ! have_opencv; then
  packages+=(libopencv-dev pkg-config)
  missing+=("OpenCV 4 not found by \`pkg-config --exists opencv4\` (the gocv-tagged camera tests and \`go build -tags gocv\` need it): install it with \`sudo apt-get install libopencv-dev pkg-config\`")
fi

if [ "$want_python" -eq 1 ] && [ ! -x /usr/bin/python3 ]; then
  packages+=(python3)
  missing+=("/usr/bin/python3 not found (the test of docs/serve.md's Python client needs it; it is skipped without): install it with \`sudo apt-get install python3\`")
fi

if [ "${#packages[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  printf '%s\n' "${missing[@]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  printf '%s\n' "${missing[@]}" >&2
  echo "apt-get is not available: install the above with your package manager (OpenCV 4.6 or newer, with its pkg-config file opencv4.pc)" >&2
  exit 1
fi
echo "installing ${packages[*]} with apt-get (once)…" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq "${packages[@]}" >&2
if [ "$want_chromium" -eq 1 ]; then
  have_chrome || { echo "chromium still not found after apt-get install chromium" >&2; exit 1; }
fi
if [ "$want_opencv" -eq 1 ]; then
  have_opencv || { echo "pkg-config still does not find opencv4 after apt-get install libopencv-dev pkg-config" >&2; exit 1; }
fi
