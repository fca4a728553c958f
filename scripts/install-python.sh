#!/usr/bin/env bash
# Installs Debian's python3 for make bench's cross-check with clients in processes of their own
# (bot/testdata/rtt.py) if it is missing. Idempotent and quiet. Needs root, or sudo.
set -euo pipefail
command -v python3 >/dev/null 2>&1 && exit 0
. "$(dirname "$0")/apt-lib.sh"
apt_install python3
