#!/bin/sh
# Install on a Debian 12 host what `make deb`, `make rpm` and the package
# tier need: debhelper and dh-python (dpkg-buildpackage), rpm (rpmbuild),
# lintian, rpmlint, pip for the one wheel packaging/vendor.txt names, and
# bash-completion (packaging/check-cli-docs.sh).
# Idempotent; run as root.
set -eu

APT_PACKAGES="dpkg-dev debhelper dh-python python3 make fakeroot rpm rpmlint
  lintian python3-pip bash-completion"

# shellcheck disable=SC2086  # a word list on purpose
"$(dirname "$0")/apt-ensure.sh" $APT_PACKAGES
