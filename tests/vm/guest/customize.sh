#!/bin/sh
# Turn the root file system mmdebstrap made into the VM tier's batch image.
# Run on the host, as root, by tests/vm/build.py:  customize.sh ROOT
# The lists come from tests/vm/recipe.py through the environment:
#   DVSUM_VM_HOSTNAME, DVSUM_VM_MASK, DVSUM_VM_DISABLE (space-separated).
set -eu
root=$1
here=$(dirname "$0")

echo "$DVSUM_VM_HOSTNAME" > "$root/etc/hostname"
cat > "$root/etc/hosts" <<HOSTS
127.0.0.1	localhost
127.0.1.1	$DVSUM_VM_HOSTNAME
::1		localhost ip6-localhost ip6-loopback
HOSTS
# The root disk is the only disk; opened with -snapshot, it never needs fsck.
echo "/dev/vda / ext4 rw,noatime 0 0" > "$root/etc/fstab"

# The journal lives in memory: nothing of a run persists anyway.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' \
  > "$root/etc/systemd/journald.conf.d/dvsum-vm.conf"

install -D -m 755 "$here/run-job" "$root/usr/local/lib/dvsum-vm/run-job"
install -D -m 644 "$here/dvsum-vm-job.service" \
  "$root/etc/systemd/system/dvsum-vm-job.service"

systemctl --root="$root" --quiet set-default multi-user.target
systemctl --root="$root" --quiet enable dvsum-vm-job.service
# shellcheck disable=SC2086  # word lists on purpose
systemctl --root="$root" --quiet mask $DVSUM_VM_MASK
# shellcheck disable=SC2086
systemctl --root="$root" --quiet disable $DVSUM_VM_DISABLE

# mmdebstrap removed apt's lists; drop the .debs the cache hook left.
rm -f "$root"/var/cache/apt/archives/*.deb
