#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the browser tests (bot/webtest) if it is missing.
# Idempotent and quiet: does nothing when `chromium` is already on PATH. Needs root, or sudo.
# Only Debian's package works here: browser downloads by test tools (npx playwright install, ...) do not.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi

. "$(dirname "$0")/../../scripts/apt-lib.sh"
# fonts-liberation: metric-compatible Arial/Times/Courier, so screenshots render real glyphs.
apt_install chromium fonts-liberation

if ! chromium --version >/dev/null 2>&1; then
  echo "install.sh: chromium installed but \`chromium --version\` fails" >&2
  exit 1
fi
