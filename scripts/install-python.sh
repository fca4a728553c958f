#!/usr/bin/env bash
# Installs Debian's python3 for make bench's cross-check with clients in processes of their own
# (bot/testdata/rtt.py) if it is missing. Idempotent and quiet. Needs root, or sudo.
set -euo pipefail

if command -v python3 >/dev/null 2>&1; then
  exit 0
fi

sudo=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "install-python.sh: need root (or sudo) to apt-get install python3" >&2
    exit 1
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-python.sh: failed: $*" >&2
    exit 1
  fi
}
run $sudo apt-get update -qq
run $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3
