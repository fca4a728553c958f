#!/usr/bin/env bash
# Installs Prometheus Alertmanager from Debian's package (prometheus-alertmanager, 0.25 on bookworm) when it
# is missing, for the tests in bot/amtest. The tests start their own Alertmanager on a free loopback port,
# so the package's system service must not run: the package is installed with a policy-rc.d that forbids
# the post-install start (unless the machine already has one), and on a machine with systemd the service is
# then stopped and disabled. In a container without an init system nothing is started or stopped.
#
# Run it as root or as a user with sudo. It is idempotent and prints nothing unless something fails; run it
# again at any time to make sure the service is off.
set -euo pipefail

pkg=prometheus-alertmanager
svc=prometheus-alertmanager

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null; then
  as_root() { sudo -- "$@"; }
else
  echo "install.sh: run as root or install sudo" >&2
  exit 1
fi

installed() {
  command -v prometheus-alertmanager >/dev/null || [ -x /usr/bin/prometheus-alertmanager ]
}

if ! installed; then
  policy=/usr/sbin/policy-rc.d
  ours=
  log=$(mktemp)
  cleanup() {
    [ -z "$ours" ] || as_root rm -f "$policy"
    rm -f "$log"
  }
  trap cleanup EXIT # however the script ends (set -e, a failed apt-get)
  # policy-rc.d: invoke-rc.d and deb-systemd-invoke ask it before starting a service from a maintainer
  # script; exit code 101 means "not allowed". Put one in place for the install only, and only if the
  # machine has none (Debian's Docker images ship one that already says 101).
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from opsbot testdata/alertmanager/install.sh\nexit 101\n' >"$log"
    as_root install -m 755 "$log" "$policy"
    ours=1
  fi
  # apt's chatter (and debconf's "delaying package configuration" notice) goes to a log shown on failure
  # only. DPkg::Lock::Timeout waits for another apt/dpkg run (unattended upgrades, a parallel install)
  # instead of failing at once.
  apt() {
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@" >"$log" 2>&1; then
      echo "install.sh: apt-get $* failed:" >&2
      cat "$log" >&2
      exit 1
    fi
  }
  apt update -qq
  apt install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$pkg"
  cleanup
  trap - EXIT
  if ! installed; then
    echo "install.sh: $pkg installed but prometheus-alertmanager is not on PATH" >&2
    exit 1
  fi
fi

# The service: off, and not started at boot. Done on every run, so a machine where the package was
# installed some other way is fixed too.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  # systemd is the running init: stop and disable (the package's postinst enables it even when
  # policy-rc.d prevented the start).
  as_root systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
elif [ -x "/etc/init.d/$svc" ]; then
  # No systemd (a container, or sysvinit): remove the boot links, and stop the service only if its init
  # script says it runs, which it does not in a container.
  if command -v update-rc.d >/dev/null; then
    as_root update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
  if as_root "/etc/init.d/$svc" status >/dev/null 2>&1; then
    as_root "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
fi
