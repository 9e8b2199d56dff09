"""What goes into the VM image: Debian release, archive, packages, pruning.

Everything the lab (tests/lab) and the agent need inside the VM, which has
no network: the image is the only source of software there. Changing
anything here changes the image's cache key (tests/vm/cache.py), so the
next run builds a new image.
"""

from __future__ import annotations

import os

SUITE = "bookworm"

# Debian's archive; DVSUM_VM_MIRROR replaces the host part (a local mirror).
MIRROR = os.environ.get("DVSUM_VM_MIRROR", "http://deb.debian.org").rstrip("/")


def sources() -> list[str]:
    """The apt source lines mmdebstrap uses (release, updates, security)."""
    return [
        f"deb {MIRROR}/debian {SUITE} main",
        f"deb {MIRROR}/debian {SUITE}-updates main",
        f"deb {MIRROR}/debian-security {SUITE}-security main",
    ]


PACKAGES = (
    # a booting, settling systemd machine with Debian's own kernel
    # (systemd-sysv: /sbin/init is systemd)
    "systemd", "systemd-sysv", "udev", "dbus", "kmod", "linux-image-amd64",
    # the agent's data plane and its Python bindings
    "iproute2", "nftables", "python3", "python3-venv", "python3-yaml",
    "python3-pyroute2", "python3-nftables", "python3-systemd",
    "python3-iptables", "python3-dnspython",
    # running the project's tests
    "python3-pytest", "python3-hypothesis",
    # strongSwan: the agent's charon and the lab's AWS peers
    "strongswan-swanctl", "strongswan-charon", "charon-systemd",
    "libcharon-extra-plugins",
    # the lab's landing zone and its probes
    "nginx-light", "dnsmasq-base", "openssl", "curl", "tcpdump", "procps",
    "netcat-openbsd",
    # DNS forwarding through the distribution's resolver (tests/vmguest)
    "systemd-resolved",
)  # fmt: skip

# Not in bookworm: fetched from PyPI on the host, installed into the image's
# /usr/local site-packages so the image's python3 imports it.
PYPI = ("vici==6.0.3",)

# Files dpkg never unpacks (dpkg path-exclude globs). The kernel-module
# folders are hardware a TCG guest with virtio devices does not have; leaving
# them out shrinks /lib/modules from ~390 MB to about a third and saves
# unpacking time. Everything under net/ that IPsec and the lab use (xfrm,
# esp4, netfilter, tun, veth) stays.
_MODULE_DIRS = (
    "sound", "drivers/gpu", "drivers/media", "drivers/usb",
    "drivers/infiniband", "drivers/scsi", "drivers/iio", "drivers/hwmon",
    "drivers/staging", "drivers/hid", "drivers/platform", "drivers/comedi",
    "drivers/mtd", "drivers/video", "drivers/target", "drivers/isdn",
    "drivers/bluetooth", "drivers/mmc", "drivers/nvme", "drivers/thunderbolt",
    "drivers/atm", "drivers/w1", "drivers/soundwire", "drivers/ata",
    "drivers/watchdog", "drivers/edac", "drivers/message", "drivers/ufs",
    "drivers/net/wireless", "drivers/net/ethernet", "drivers/net/usb",
    "drivers/net/can", "drivers/net/wwan", "drivers/net/ieee802154",
    "drivers/net/hamradio", "drivers/net/fddi", "drivers/net/arcnet",
    "net/wireless", "net/mac80211", "net/bluetooth", "net/nfc",
    "net/mac802154", "net/ieee802154", "net/can", "net/atm",
    "fs/btrfs", "fs/xfs", "fs/ocfs2", "fs/gfs2", "fs/nfs", "fs/nfsd",
    "fs/smb", "fs/ceph", "fs/f2fs", "fs/bcachefs",
)  # fmt: skip

PATH_EXCLUDES = (
    "/usr/share/doc/*",
    "/usr/share/man/*",
    "/usr/share/info/*",
    "/usr/share/locale/*",
    # bookworm's linux-image ships /lib/modules (merged /usr via the symlink)
    *(f"/lib/modules/*/kernel/{d}/*" for d in _MODULE_DIRS),
)

# Loaded by the initramfs (initramfs-tools MODULES=list): the root disk and
# the 9p shares. Everything else autoloads from the root file system.
INITRAMFS_MODULES = ("virtio_pci", "virtio_blk", "ext4", "9p", "9pnet_virtio")

# Units a batch VM never needs: timers that would wake apt or scrub disks,
# logins and consoles nobody uses, file systems and modules for hardware and
# debugging it lacks. Each costs about a second of a TCG boot.
# kmod-static-nodes stays: it makes /dev/net/tun before tun is loaded.
MASKED_UNITS = (
    "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
    "e2scrub_all.timer", "e2scrub_reap.service", "fstrim.timer",
    "getty@tty1.service", "serial-getty@ttyS0.service",
    "systemd-logind.service", "systemd-update-utmp.service",
    "systemd-update-utmp-runlevel.service", "systemd-binfmt.service",
    "systemd-pstore.service",
    "modprobe@drm.service", "modprobe@efi_pstore.service",
    "modprobe@fuse.service", "modprobe@loop.service",
    "modprobe@dm_mod.service", "modprobe@configfs.service",
    "sys-kernel-debug.mount", "sys-kernel-tracing.mount",
    "sys-kernel-config.mount", "sys-fs-fuse-connections.mount",
    "dev-hugepages.mount",
)  # fmt: skip
# Daemons the lab starts itself in its namespaces: not started at boot; a job
# that wants the distribution's strongswan.service starts it.
# systemd-resolved: a test starts it in the gateway's namespace.
DISABLED_UNITS = (
    "nginx.service", "strongswan.service", "strongswan-starter.service",
    "systemd-resolved.service",
)  # fmt: skip

HOSTNAME = "dvsum-vm"
# Free space left in the root file system for what a job writes (the disk is
# opened with -snapshot, so nothing of it persists).
FREE_BYTES = 1536 * 1024 * 1024
