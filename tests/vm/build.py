"""Build the VM image, or reuse the cached one with the same key.

A Debian 12 root file system from `mmdebstrap --variant=apt` (Debian's
archive only; the .debs are synced in and out of the cache so a rebuild
downloads nothing already there), the `vici` wheel from PyPI in its
/usr/local site-packages, the batch runner unit (tests/vm/guest), then:

    vmlinux      Debian's kernel, uncompressed (tests/vm/kernel.py)
    initrd.img   Debian's initramfs with virtio, ext4 and 9p
    rootfs.img   the tree as a raw ext4 image (`mkfs.ext4 -d`)
    manifest.json  key, kernel version, package versions, build times

Runs as root (mmdebstrap's root mode). The root tree is built in a
temporary directory on /dev/shm (or in the cache), the results in one
inside the cache; both are removed whatever happens, and the result is
renamed into place only when complete.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.vm import recipe
from tests.vm.cache import Cache, Image, image_key
from tests.vm.kernel import extract_vmlinux

GUEST = Path(__file__).resolve().parent / "guest"
HOST_TOOLS = ("mmdebstrap", "mkfs.ext4", "systemctl")
SHM = "/dev/shm"
TREE_ROOM = 3 * 1024**3  # the tree takes ~0.8 GB at its largest
TREE_NOTE = "tree"  # in a build's cache tmp dir: where its root tree is

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """The image could not be built; the message says which step failed."""


def _stderr(message: str) -> None:
    print(f"vm: {message}", file=sys.stderr, flush=True)


def ensure_image(
    cache: Cache | None = None, *, rebuild: bool = False, log: Log = _stderr
) -> Image:
    """The image for the current recipe: the cached one, or a new build."""
    cache = cache or Cache()
    key = image_key()
    image = cache.image(key)
    if image.complete() and not rebuild:
        log(f"image {key}: cached ({image.directory})")
        return image
    with cache.locked():
        if image.complete() and not rebuild:  # another process built it
            log(f"image {key}: cached ({image.directory})")
            return image
        _remove_stale(cache)
        start = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=cache.root))
        tree = Path(tempfile.mkdtemp(prefix="dvsum-vm-root-", dir=_tree_parent(cache)))
        for directory in (tmp, tree):
            directory.chmod(0o755)  # apt downloads as _apt: it must reach the tree
        (tmp / TREE_NOTE).write_text(str(tree))  # for _remove_stale
        try:
            staged = tmp / "image"
            staged.mkdir()
            times = Builder(cache, tree / "root", Image(staged), log).build(key)
            image = cache.publish(staged, key)
            pruned = cache.prune_debs(image.facts()["packages"])
            if pruned:
                log(f"removed {pruned} superseded .debs from the cache")
        finally:
            cleanup = time.monotonic()
            remove_tree(tree)
            remove_tree(tmp)
        times["cleanup"] = time.monotonic() - cleanup
        total = time.monotonic() - start
        steps = ", ".join(f"{name} {sec:.1f} s" for name, sec in times.items())
        log(f"image {key}: built in {total:.1f} s ({steps})")
        return image


class Builder:
    """One build: root tree in `root`, results in `out`."""

    def __init__(self, cache: Cache, root: Path, out: Image, log: Log) -> None:
        self.cache = cache
        self.root = root
        self.out = out
        self.log = log
        self.times: dict[str, float] = {}

    def build(self, key: str) -> dict[str, float]:
        _check_host()
        self._step("wheels", self._fetch_wheels)
        self._step("mmdebstrap", self._mmdebstrap)
        self._step("customize", self._customize)
        self._step("kernel", self._kernel)
        self._step("mkfs", self._mkfs)
        self._step("manifest", lambda: self._write_manifest(key))
        return self.times

    def _step(self, name: str, action: Callable[[], None]) -> None:
        self.log(f"build: {name}")
        start = time.monotonic()
        action()
        self.times[name] = time.monotonic() - start

    def _fetch_wheels(self) -> None:
        """The PyPI packages as wheels in the cache (offline when present)."""
        self.cache.pypi.mkdir(parents=True, exist_ok=True)
        base = [sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                "--only-binary=:all:", "--disable-pip-version-check",
                "-d", str(self.cache.pypi)]  # fmt: skip
        offline = [*base, "--no-index", "--find-links", str(self.cache.pypi)]
        if _quiet_ok([*offline, *recipe.PYPI]):
            return
        _run([*base, *recipe.PYPI], "pip download")

    def _mmdebstrap(self) -> None:
        debs = self.cache.debs
        debs.mkdir(parents=True, exist_ok=True)
        for path in (debs, self.root):
            if any(c.isspace() for c in str(path)):
                raise BuildError(f"no whitespace allowed in the cache path: {path}")
        setup = shlex.quote(str(GUEST / "setup.sh"))
        env = {
            **os.environ,
            "DVSUM_VM_EXCLUDES": "\n".join(recipe.PATH_EXCLUDES),
            "DVSUM_VM_INITRAMFS_MODULES": " ".join(recipe.INITRAMFS_MODULES),
        }
        argv = [
            "mmdebstrap", "--variant=apt", "--mode=root", "--format=directory",
            "--skip=essential/unlink",
            "--dpkgopt=force-unsafe-io",
            '--aptopt=Acquire::Check-Valid-Until "false"',
            "--include=" + ",".join(recipe.PACKAGES),
            '--setup-hook=mkdir -p "$1/var/cache/apt/archives"',
            f"--setup-hook=sync-in {debs} /var/cache/apt/archives/",
            f'--setup-hook={setup} "$1"',
            f"--customize-hook=sync-out /var/cache/apt/archives {debs}",
            recipe.SUITE, str(self.root), *recipe.sources(),
        ]  # fmt: skip
        _run(argv, "mmdebstrap", env=env)

    def _customize(self) -> None:
        env = {
            **os.environ,
            "DVSUM_VM_HOSTNAME": recipe.HOSTNAME,
            "DVSUM_VM_MASK": " ".join(recipe.MASKED_UNITS),
            "DVSUM_VM_DISABLE": " ".join(recipe.DISABLED_UNITS),
        }
        _run([str(GUEST / "customize.sh"), str(self.root)], "customize", env=env)
        site = self._site_packages()
        _run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps",
             "--no-index", "--no-compile", "--disable-pip-version-check",
             "--root-user-action=ignore", "--find-links", str(self.cache.pypi),
             "--target", str(site), *recipe.PYPI],
            "pip install into the image",
        )  # fmt: skip

    def _site_packages(self) -> Path:
        """/usr/local/lib/python3.X/dist-packages for the image's python3."""
        target = os.readlink(self.root / "usr/bin/python3")  # "python3.11"
        return self.root / "usr/local/lib" / Path(target).name / "dist-packages"

    def _kernel(self) -> None:
        vmlinuz = _only(self.root / "boot", "vmlinuz-*")
        initrd = _only(self.root / "boot", "initrd.img-*")
        extract_vmlinux(vmlinuz, self.out.kernel)
        shutil.copyfile(initrd, self.out.initrd)

    def _mkfs(self) -> None:
        used = _disk_usage(self.root)
        size = _round_up(int(used * 1.15) + recipe.FREE_BYTES, 64 * 1024 * 1024)
        with self.out.rootfs.open("wb") as image:
            image.truncate(size)
        _run(
            ["mkfs.ext4", "-q", "-F", "-L", recipe.HOSTNAME, "-O", "^has_journal",
             "-E", "root_owner=0:0", "-d", str(self.root), str(self.out.rootfs)],
            "mkfs.ext4",
        )  # fmt: skip

    def _write_manifest(self, key: str) -> None:
        vmlinuz = _only(self.root / "boot", "vmlinuz-*")
        packages = _run(
            ["dpkg-query", "--admindir", str(self.root / "var/lib/dpkg"), "-W",
             "-f", "${Package}=${Version}\n"],
            "dpkg-query",
        ).stdout.split()  # fmt: skip
        facts = {
            "key": key,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "kernel": vmlinuz.name.removeprefix("vmlinuz-"),
            "suite": recipe.SUITE,
            "sources": recipe.sources(),
            "rootfs_bytes": self.out.rootfs.stat().st_size,
            "rootfs_used_bytes": _disk_usage(self.root),
            "build_seconds": {k: round(v, 1) for k, v in self.times.items()},
            "packages": packages,
        }
        self.out.manifest.write_text(json.dumps(facts, indent=1) + "\n")


def remove_tree(path: Path) -> None:
    """rm -rf path, refusing when anything is still mounted beneath it.

    mmdebstrap mounts /proc, /sys and /dev into the tree while it works and
    unmounts them again; removing through a leftover bind mount would delete
    the host's files.
    """
    if not path.exists():
        return
    inside = _mounts_under(path)
    if inside:
        raise BuildError(
            f"not removing {path}: still mounted there: {', '.join(inside)}"
        )
    shutil.rmtree(path)


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()).rstrip("/") + "/"
    found = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(prefix) or point == prefix.rstrip("/"):
                found.append(point)
    return found


def _tree_parent(cache: Cache) -> Path:
    """Where the root tree is built: a tmpfs when there is room (removing
    the ~30,000 files from disk took 40 s, from memory well under one),
    else the cache. DVSUM_VM_BUILD_DIR chooses."""
    chosen = os.environ.get("DVSUM_VM_BUILD_DIR")
    if chosen:
        return Path(chosen)
    shm = Path(SHM)
    try:
        free = os.statvfs(shm)
    except OSError:
        return cache.root
    if free.f_bavail * free.f_frsize >= TREE_ROOM:
        return shm
    return cache.root


def _remove_stale(cache: Cache) -> None:
    """Builds interrupted before (we hold the lock: none is running)."""
    for stale in cache.root.glob("tmp-*"):
        note = stale / TREE_NOTE
        if note.is_file():
            tree = Path(note.read_text())
            if tree.name.startswith("dvsum-vm-root-"):
                remove_tree(tree)
        remove_tree(stale)


def _check_host() -> None:
    if os.geteuid() != 0:
        raise BuildError("building the VM image needs root (mmdebstrap root mode)")
    missing = [tool for tool in HOST_TOOLS if not shutil.which(tool)]
    if missing:
        raise BuildError(
            f"missing on the host: {', '.join(missing)} (run tests/vm/host-setup.sh)"
        )


def _run(
    argv: list[str], what: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run argv; its stderr goes to ours (progress); raise BuildError on failure."""
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, env=env, check=False)
    if done.returncode != 0:
        raise BuildError(f"{what} failed (exit {done.returncode}): {shlex.join(argv)}")
    return done


def _quiet_ok(argv: list[str]) -> bool:
    done = subprocess.run(argv, capture_output=True, check=False)
    return done.returncode == 0


def _only(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        raise BuildError(f"expected one {pattern} in {directory}, found {found}")
    return found[0]


def _disk_usage(path: Path) -> int:
    done = _run(["du", "-s", "--block-size=1", str(path)], "du")
    return int(done.stdout.split()[0])


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step
