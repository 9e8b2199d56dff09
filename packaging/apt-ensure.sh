#!/bin/sh
# apt-ensure.sh PACKAGE...: install those of PACKAGE that are missing, with
# no service started by their maintainer scripts (policy-rc.d, for the
# install only).  Shared by dev-setup.sh and tests/vm/host-setup.sh.
set -eu

missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

echo "apt-ensure: installing:$missing"
apt-get update -qq
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# $missing is a word list on purpose.
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  $missing >/dev/null
