#!/usr/bin/env bash
# Installs the test network's daemons (Debian packages inspircd, atheme-services) when missing.
set -euo pipefail
command -v inspircd >/dev/null && command -v atheme-services >/dev/null && exit 0
[ "$(id -u)" = 0 ] && SUDO= || SUDO=sudo
$SUDO bash "$(dirname "$0")/../testdata/ircnet/install.sh"
