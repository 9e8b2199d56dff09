#!/bin/sh
# Install on a Debian 12 host what the VM tier (tests/vm) needs: qemu (TCG
# only), mmdebstrap to build the guest's root file system from Debian's
# archive, e2fsprogs for `mkfs.ext4 -d`, and pip to fetch the `vici` binding
# that bookworm lacks.  Idempotent; run as root.  packaging/dev-setup.sh is
# left alone: the VM tier is optional on a developer's machine.
set -eu

APT_PACKAGES="qemu-system-x86 mmdebstrap e2fsprogs zstd xz-utils python3-pip"

missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "host-setup: installing:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $missing >/dev/null
fi
echo "host-setup: ready ($(qemu-system-x86_64 --version | head -n 1))"
