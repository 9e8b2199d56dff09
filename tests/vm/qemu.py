"""The qemu command line of one VM run.

TCG only (`-accel tcg -cpu max -smp 2`): /dev/kvm exists on these machines
but -enable-kvm hangs. Both host cores go to the guest; one vCPU is about
half as fast. No network device at all (-nodefaults adds none): the guest
reaches nothing outside itself. The root disk is opened with -snapshot, so
every run starts from the pristine image and the image is never written.
Two 9p shares: the repository checkout (read-only) and the output
directory (read-write). The serial console is qemu's stdout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tests.vm.cache import Image

QEMU = "qemu-system-x86_64"


@dataclass(frozen=True)
class Machine:
    """What to boot and what to share with it."""

    image: Image
    repo: Path
    out: Path
    memory_mb: int = 2048
    cpus: int = 2

    def kernel_cmdline(self, job: str, epoch: int) -> str:
        """Boot options, and the job and clock for the guest's runner."""
        return " ".join((
            "root=/dev/vda rw rootfstype=ext4",
            "console=ttyS0",
            # A panic or a failed boot ends the run at once (-no-reboot).
            "panic=-1",
            # Only warnings from the kernel; systemd shows failures only.
            "quiet loglevel=4",
            # TCG: no side channels to defend, and retpolines cost time.
            "mitigations=off",
            "random.trust_cpu=on",
            f"dvsum.job={job}",
            f"dvsum.epoch={epoch}",
            # Extra options when debugging a boot (e.g. systemd.log_level=debug).
            os.environ.get("DVSUM_VM_APPEND", ""),
        )).strip()  # fmt: skip

    def argv(self, job: str, epoch: int) -> list[str]:
        return [
            QEMU,
            "-accel", "tcg", "-cpu", "max", "-smp", str(self.cpus),
            "-m", str(self.memory_mb),
            "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot",
            "-kernel", str(self.image.kernel),
            "-initrd", str(self.image.initrd),
            "-append", self.kernel_cmdline(job, epoch),
            "-drive", f"file={self.image.rootfs},format=raw,if=virtio",
            "-snapshot",
            "-virtfs", _virtfs(self.repo, "repo", readonly=True),
            "-virtfs", _virtfs(self.out, "out", readonly=False),
            "-device", "virtio-rng-pci",
            "-chardev", "stdio,id=console,signal=off",
            "-serial", "chardev:console",
            "-monitor", "none",
        ]  # fmt: skip


def _virtfs(path: Path, tag: str, *, readonly: bool) -> str:
    if "," in str(path):
        raise ValueError(f"qemu cannot share a path with a comma: {path}")
    options = [
        "local", f"path={path}", f"mount_tag={tag}", "security_model=none",
        "multidevs=remap",
    ]  # fmt: skip
    if readonly:
        options.append("readonly=on")
    return ",".join(options)
