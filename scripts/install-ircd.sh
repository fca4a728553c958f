#!/usr/bin/env bash
# Installs the test networks' daemons when missing: inspircd and atheme-services (Debian packages), and for
# the compatibility tests ircd-hybrid (package) and ngircd (unpacked from its package into
# /var/cache/opsbot, because the two packages conflict). See testdata/ircnet/install.sh.
set -euo pipefail
ngircd_ok() {
  command -v ngircd >/dev/null || [ -x /usr/sbin/ngircd ] && return 0
  local b=${OPSBOT_IRCD_CACHE:-/var/cache/opsbot}/ngircd/usr/sbin/ngircd
  [ -x "$b" ] && ! ldd "$b" | grep -q 'not found'
}
hybrid_ok() { command -v ircd-hybrid >/dev/null || [ -x /usr/sbin/ircd-hybrid ]; }
command -v inspircd >/dev/null && command -v atheme-services >/dev/null && hybrid_ok && ngircd_ok &&
  command -v chattr >/dev/null && exit 0
[ "$(id -u)" = 0 ] && SUDO= || SUDO=sudo
$SUDO env OPSBOT_IRCD_CACHE="${OPSBOT_IRCD_CACHE:-}" bash "$(dirname "$0")/../testdata/ircnet/install.sh"
