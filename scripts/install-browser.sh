#!/usr/bin/env bash
# Installs what tests/browser needs, and only what is missing (idempotent, quiet):
#   * Debian's Chromium at /usr/bin/chromium (apt-get; never a browser build downloaded by a
#     test tool such as `playwright install`);
#   * axe-core from the npm registry into tests/browser/node_modules, at the version pinned by
#     tests/browser/package-lock.json (`npm ci`; node_modules is not committed).
# The Python side (playwright, pypdf) comes with the project's dependencies.
# Prints one line per thing it installed; nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-browser: apt-get install chromium failed" >&2
    exit 1
  fi
  rm -f "$log"
  echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null)"
fi

lock=tests/browser/package-lock.json
axe=tests/browser/node_modules/axe-core
wanted=$(sed -n '/"node_modules\/axe-core"/,/}/s/.*"version": "\([^"]*\)".*/\1/p' "$lock" | head -n1)
have=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$axe/package.json" 2>/dev/null || true)
if [ ! -f "$axe/axe.min.js" ] || [ "$have" != "$wanted" ]; then
  if ! out=$(npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error 2>&1); then
    echo "$out" >&2
    echo "install-browser: npm ci (axe-core) failed" >&2
    exit 1
  fi
  echo "install-browser: axe-core $wanted (npm)"
fi
