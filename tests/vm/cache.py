"""The VM tier's cache: downloaded .debs and wheels, and finished images.

    <cache>/debs/               .debs, synced in and out of every build
    <cache>/pypi/               wheels from PyPI (tests/vm/recipe.py PYPI)
    <cache>/image-<key>/        one finished image (see Image)
    <cache>/tmp-*/              a build in progress (removed when it ends)
    <cache>/lock                held while building

<cache> is /var/cache/dvsum-vpn/vm unless DVSUM_VM_CACHE says otherwise.
The key hashes the recipe (suite, archive, packages, pruning) and every file
that shapes the image (IMAGE_INPUTS), so changing any of them builds a new
image, and a second run with the same inputs reuses the first one's.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.vm import recipe

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = Path("/var/cache/dvsum-vpn/vm")

# The files whose content goes into the image (the runner's files do not:
# changing how a VM is started never needs a new image).
IMAGE_INPUTS = ("recipe.py", "build.py", "kernel.py", "guest")


def cache_dir() -> Path:
    return Path(os.environ.get("DVSUM_VM_CACHE", str(DEFAULT_DIR))).absolute()


def image_key() -> str:
    """A short hash of everything that decides the image's content."""
    digest = hashlib.sha256()
    facts = {
        "suite": recipe.SUITE,
        "sources": recipe.sources(),
        "packages": sorted(recipe.PACKAGES),
        "pypi": list(recipe.PYPI),
        "excludes": list(recipe.PATH_EXCLUDES),
        "initramfs": list(recipe.INITRAMFS_MODULES),
    }
    digest.update(json.dumps(facts, sort_keys=True).encode())
    for path in _input_files():
        digest.update(str(path.relative_to(HERE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _input_files() -> list[Path]:
    files: list[Path] = []
    for name in IMAGE_INPUTS:
        path = HERE / name
        if path.is_dir():
            files += [p for p in path.rglob("*") if p.is_file()]
        else:
            files.append(path)
    return sorted(f for f in files if "__pycache__" not in f.parts)


@dataclass(frozen=True)
class Image:
    """One finished image: a raw ext4 root disk, its kernel and initramfs."""

    directory: Path

    @property
    def rootfs(self) -> Path:
        return self.directory / "rootfs.img"

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinux"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.img"

    @property
    def manifest(self) -> Path:
        return self.directory / "manifest.json"

    def complete(self) -> bool:
        return all(
            p.is_file() for p in (self.rootfs, self.kernel, self.initrd, self.manifest)
        )

    def facts(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.manifest.read_text())
        return data


class Cache:
    """The cache directory; builds publish into it atomically."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir()

    @property
    def debs(self) -> Path:
        return self.root / "debs"

    @property
    def pypi(self) -> Path:
        return self.root / "pypi"

    def image(self, key: str) -> Image:
        return Image(self.root / f"image-{key}")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the build lock: one build at a time per cache."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def prune_debs(self, installed: list[str]) -> int:
        """Drop .debs no image uses any more (installed: "name=version");
        returns how many were removed. The archive moves on, and without
        this the cache would keep every superseded version."""
        keep = set(installed)
        removed = 0
        for deb in self.debs.glob("*.deb"):
            name, version = deb.name.split("_")[:2]
            if f"{name}={unquote(version)}" not in keep:
                deb.unlink()
                removed += 1
        return removed

    def publish(self, staged: Path, key: str) -> Image:
        """Move a finished build into place, then drop other images."""
        image = self.image(key)
        if image.directory.exists():
            shutil.rmtree(image.directory)
        staged.rename(image.directory)
        for old in self.root.glob("image-*"):
            if old != image.directory:
                shutil.rmtree(old)
        return image
