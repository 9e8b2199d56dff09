#!/bin/bash
# The package tier (`make test-package`, CI): build the .deb and the .rpm
# from this checkout, lint both, then install, configure, upgrade and purge
# the .deb in the VM (tests/vm/jobs/package.sh).  Prints how long each step
# took.  Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=build/packages
VENDOR=build/vendor
# The upgrade test's newer build: the same source, the next Debian revision.
UPGRADE_VERSION=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version \
  | awk -F- '{ print $1 "-" $2 + 1 }')

step() {
  local name=$1 start=$SECONDS
  shift
  echo "--- package: $name"
  "$@"
  echo "--- package: $name took $((SECONDS - start)) s"
}

lint_deb() {
  # Errors and warnings fail; every override in debian/*.lintian-overrides
  # says why.  (lintian warns that it runs as root: CI is root.)
  lintian --fail-on error,warning --info --display-experimental --pedantic \
    "$OUT"/dvsum-vpn_*.changes 2>&1 | { grep -v '^running with root privileges' || true; }
  echo "lintian: clean"
}

lint_rpm() {
  rpmlint -c packaging/rpm/rpmlint.toml "$OUT"/dvsum-vpn-*.rpm \
    packaging/rpm/dvsum-vpn.spec
}

unit_checks() {
  # The shipped unit as systemd reads it (verify runs inside the VM, where
  # /usr/bin/dvsum-vpn exists); the exposure score of its sandbox.
  systemd-analyze security --offline=yes --no-pager systemd/dvsum-vpn.service \
    | tail -n 1
}

vm_job() {
  # One VM at a time on this machine.
  flock /tmp/dvsum-vm.lock python3 -m tests.vm run tests/vm/jobs/package.sh
}

step "setup" sh -c './packaging/build-setup.sh && ./tests/vm/host-setup.sh'
rm -rf "$OUT"
step "vendor" ./packaging/fetch-vendor.sh "$VENDOR"
step "deb" ./packaging/build-deb.sh "$OUT" "$VENDOR"
step "deb $UPGRADE_VERSION (upgrade test)" \
  ./packaging/build-deb.sh "$OUT/upgrade" "$VENDOR" "$UPGRADE_VERSION"
step "rpm" ./packaging/build-rpm.sh "$OUT" "$VENDOR"
step "lintian" lint_deb
step "rpmlint" lint_rpm
step "unit" unit_checks
step "vm install, upgrade, purge" vm_job
