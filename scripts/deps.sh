#!/usr/bin/env bash
# Installs what pilot's tests and demo need and are missing: Chromium.
# It uses apt-get when it can (as root, or with password-less sudo) and
# otherwise says what to run. PILOT_CHROME points at a browser you already have.
set -euo pipefail

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

if ! command -v go >/dev/null 2>&1; then
  echo "go not found: install Go 1.26 or newer (https://go.dev/doc/install) and put it on PATH" >&2
  exit 1
fi

if have_chrome; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "chromium not found: install it with \`sudo apt-get install chromium\` or set PILOT_CHROME to a Chromium or Chrome binary" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium not found and apt-get is not available: install Chromium with your package manager or set PILOT_CHROME" >&2
  exit 1
fi
echo "installing chromium with apt-get (once)…" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq chromium >&2
have_chrome || { echo "chromium still not found after apt-get install chromium" >&2; exit 1; }
