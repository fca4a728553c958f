#!/usr/bin/env bash
# Installs everything the tests need from Debian's packages when missing: the IRC daemons (inspircd,
# atheme-services, ircd-hybrid, ngircd), Prometheus Alertmanager (its system service kept off) and Chromium
# (headless, for the web pages' browser tests). Each installer is idempotent and quiet.
set -euo pipefail
here=$(dirname "$0")
bash "$here/install-ircd.sh"
bash "$here/../testdata/alertmanager/install.sh"
bash "$here/../testdata/chromium/install.sh"
