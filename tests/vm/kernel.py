"""The guest kernel: Debian's vmlinuz, uncompressed to the ELF vmlinux.

qemu boots an ELF vmlinux through its PVH entry point (Debian's kernel has
CONFIG_PVH) without the decompressor running under TCG, which saves about
two seconds of every boot. vmlinuz is a bzImage whose payload is one
compressed stream (xz for Debian 12); this finds the stream by its magic
bytes, as the kernel's scripts/extract-vmlinux does, and keeps the first
candidate that decompresses to an ELF file.
"""

from __future__ import annotations

import gzip
import lzma
import zlib
from collections.abc import Callable
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def _xz(data: bytes) -> bytes:
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)


def _gzip(data: bytes) -> bytes:
    # The stream ends before the bzImage does: ignore what follows it.
    return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(data)


def _lzma(data: bytes) -> bytes:
    return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(data)


DECODERS: tuple[tuple[bytes, Callable[[bytes], bytes]], ...] = (
    (b"\xfd7zXZ\x00", _xz),
    (b"\x1f\x8b\x08", _gzip),
    (b"\x5d\x00\x00", _lzma),
)


class KernelError(RuntimeError):
    """No ELF kernel could be found in the given vmlinuz."""


def extract_vmlinux(vmlinuz: Path, vmlinux: Path) -> None:
    """Write the ELF kernel inside vmlinuz to vmlinux."""
    data = vmlinuz.read_bytes()
    for magic, decode in DECODERS:
        start = data.find(magic)
        while start != -1:
            try:
                elf = decode(data[start:])
            except (lzma.LZMAError, zlib.error, gzip.BadGzipFile, EOFError):
                elf = b""
            if elf.startswith(ELF_MAGIC):
                vmlinux.write_bytes(elf)
                return
            start = data.find(magic, start + 1)
    raise KernelError(
        f"{vmlinuz}: no xz, gzip or lzma stream decompresses to an ELF kernel"
    )
