#!/bin/sh
# mmdebstrap setup hook (tests/vm/build.py): before any package is unpacked,
# tell dpkg what never to unpack and initramfs-tools what the initramfs
# holds.  setup.sh ROOT; the lists come from tests/vm/recipe.py through the
# environment: DVSUM_VM_EXCLUDES (newline-separated dpkg globs) and
# DVSUM_VM_INITRAMFS_MODULES (space-separated).
set -eu
root=$1

mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
printf '%s\n' "$DVSUM_VM_EXCLUDES" | sed -n 's/^\(.\+\)$/path-exclude=\1/p' \
  > "$root/etc/dpkg/dpkg.cfg.d/dvsum-vm-excludes"

# Only the listed modules (and what they need) go into the initramfs: a
# generic "most" initramfs takes 20 s to build and is five times larger.
mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/etc/initramfs-tools/hooks"
printf 'MODULES=list\nCOMPRESS=gzip\n' \
  > "$root/etc/initramfs-tools/conf.d/dvsum-vm.conf"
cat > "$root/etc/initramfs-tools/hooks/dvsum-vm" <<HOOK
#!/bin/sh
# The VM tier's root disk and 9p shares (tests/vm/recipe.py).
case "\$1" in prereqs) exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
for module in $DVSUM_VM_INITRAMFS_MODULES; do force_load "\$module"; done
HOOK
chmod 755 "$root/etc/initramfs-tools/hooks/dvsum-vm"
