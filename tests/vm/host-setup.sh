#!/bin/sh
# Install on a Debian 12 host what the VM tier (tests/vm) needs: qemu (TCG
# only), mmdebstrap to build the guest's root file system from Debian's
# archive, e2fsprogs for `mkfs.ext4 -d`, and pip to fetch the `vici` binding
# that bookworm lacks.  Idempotent; run as root.  packaging/dev-setup.sh is
# left alone: the VM tier is optional on a developer's machine.
set -eu

APT_PACKAGES="qemu-system-x86 mmdebstrap e2fsprogs zstd xz-utils python3-pip"

# shellcheck disable=SC2086
"$(dirname "$0")/../../packaging/apt-ensure.sh" $APT_PACKAGES
echo "host-setup: ready ($(qemu-system-x86_64 --version | head -n 1))"
