#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the browser tests (bot/webtest) if it is missing.
# Idempotent and quiet: does nothing when `chromium` is already on PATH. Needs root, or sudo.
# Only Debian's package works here: browser downloads by test tools (npx playwright install, ...) do not.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi

sudo=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "install.sh: need root (or sudo) to apt-get install chromium" >&2
    exit 1
  fi
fi

# apt's output is shown only when it fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "install.sh: failed: $*" >&2
    exit 1
  fi
}
run $sudo apt-get update -qq
# fonts-liberation: metric-compatible Arial/Times/Courier, so screenshots render real glyphs.
run $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  chromium fonts-liberation

if ! chromium --version >/dev/null 2>&1; then
  echo "install.sh: chromium installed but \`chromium --version\` fails" >&2
  exit 1
fi
