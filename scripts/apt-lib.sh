# Sourced by the installers of what the tests and benchmarks need from Debian's packages.
# apt_install PKG...: apt-get update and install PKG (no recommends) as root, via sudo when not root; apt's
# output is shown only when it fails, and a concurrent apt/dpkg run is waited for instead of failing at once.
apt_install() {
  local sudo= log
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "$(basename "$0"): need root (or sudo) to apt-get install $*" >&2
      return 1
    fi
    sudo=sudo
  fi
  log=$(mktemp)
  local step
  for step in "update -qq" "install -y -qq --no-install-recommends $*"; do
    # shellcheck disable=SC2086 # the step's words are separate arguments
    if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 $step >"$log" 2>&1; then
      cat "$log" >&2
      echo "$(basename "$0"): failed: apt-get $step" >&2
      rm -f "$log"
      return 1
    fi
  done
  rm -f "$log"
}
