#!/usr/bin/env bash
# The quick start: a local IRC network (InspIRCd + Atheme) on 127.0.0.1:6667 and opsbot in #operations.
# Connect any IRC client to 127.0.0.1:6667 and join #operations. Ctrl-C stops everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-ircd.sh
export PATH="$(bash scripts/ensure-go.sh):$PATH"
port=${OPSBOT_DEMO_PORT:-6667}
state=$root/.demo
mkdir -p "$state/net"
chmod 755 "$state" "$state/net"
# Atheme runs as the irc user and must reach its folder: every folder above it must be searchable.
d=$state; while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
[ "$(id -u)" = 0 ] && SUDO= || SUDO=sudo
stop_net() {
  for f in inspircd.pid atheme.pid; do [ -f "$state/net/$f" ] && $SUDO kill "$(cat "$state/net/$f")" 2>/dev/null || true; done
}
stop_net
trap stop_net EXIT
$SUDO bash testdata/ircnet/start.sh "$state/net" "$port"
go build -o "$state/opsbot" ./cmd/opsbot
# A few months of history (services, requests, incidents, deploys, an override), so every web page shows
# something; a database that has it already is left alone.
go run ./scripts/demoseed -db "$state/opsbot.db"
sed -e "s|@PORT@|$port|" -e "s|@DB@|$state/opsbot.db|" scripts/demo.toml.in > "$state/opsbot.toml"
cat <<MSG

  opsbot is joining #operations on 127.0.0.1:$port.
  Connect any IRC client to 127.0.0.1:$port, join #operations and type !help.
  To act as ops, register the account "alice" (the demo's ops/admin):  /msg NickServ REGISTER <password> alice@example.test
  Web pages: http://127.0.0.1:8080/ (open from this machine; elsewhere: /msg opsbot web)
  Status page: http://127.0.0.1:8080/status   Stop: Ctrl-C

MSG
"$state/opsbot" -config "$state/opsbot.toml"
