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

rpm_files() (
  # No RPM distribution boots here (only Debian's archive is reachable), so
  # the .rpm is installed file by file into an empty root, without its
  # dependencies and scriptlets: its files land where they should, verify,
  # and erasing leaves no file behind.  (Debian's rpm warns that it is not
  # apt: expected.)
  root=$(mktemp -d /tmp/dvsum-rpmroot.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  rpmr() { rpm --root "$root" --dbpath /var/lib/rpm "$@"; }
  rpmr --initdb
  rpmr -i --nodeps --noscripts "$OUT"/dvsum-vpn-*.noarch.rpm
  rpmr -V --nodeps --noscripts dvsum-vpn
  rpmr -q --configfiles dvsum-vpn | grep -qx /etc/dvsum-vpn/config.example.yaml
  test -x "$root/usr/bin/dvsum-vpn" -a -f "$root/usr/lib/dvsum-vpn/vici/session.py"
  test -f "$root/usr/lib/systemd/system/dvsum-vpn.service"
  echo "rpm: $(rpmr -ql dvsum-vpn | wc -l) paths installed and verified"
  rpmr -e --nodeps --noscripts dvsum-vpn
  left=$(find "$root" -not -type d -not -path "$root/var/lib/rpm/*")
  if [ -n "$left" ]; then
    echo "rpm: erasing left files behind:"
    echo "$left"
    exit 1
  fi
  echo "rpm: erased, no file left"
)

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
step "rpm files" rpm_files
step "man page and completion" ./packaging/check-cli-docs.sh
step "unit" unit_checks
step "vm install, upgrade, purge" vm_job
