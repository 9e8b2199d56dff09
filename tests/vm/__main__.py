"""python -m tests.vm build|run|info: the VM tier's command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tests.vm import build, runner
from tests.vm.cache import Cache, image_key

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT = 1200.0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
        if args.command == "run":
            return _run(args)
        return _info()
    except (build.BuildError, runner.RunError) as exc:
        print(f"vm: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.vm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build the image, or reuse the cached")
    build_cmd.add_argument("--rebuild", action="store_true", help="ignore the cache")
    run = sub.add_parser("run", help="boot a fresh VM and run JOB_SCRIPT in it")
    run.add_argument("job", type=Path, metavar="JOB_SCRIPT")
    run.add_argument(
        "--share", type=Path, default=REPO,
        help="the repository checkout the guest sees (read-only; default: this one)",
    )  # fmt: skip
    run.add_argument(
        "--out", type=Path,
        help="output directory (default: SHARE/build/vm/<job name>)",
    )  # fmt: skip
    run.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT,
        help=f"kill qemu after this many seconds (default {DEFAULT_TIMEOUT:g})",
    )  # fmt: skip
    run.add_argument("--memory", type=int, default=2048, help="guest MiB")
    run.add_argument("--quiet", action="store_true", help="do not echo the job")
    run.add_argument("--rebuild", action="store_true", help="rebuild the image")
    sub.add_parser("info", help="the cache and the current image key")
    return parser


def _build(args: argparse.Namespace) -> int:
    start = time.monotonic()
    image = build.ensure_image(rebuild=args.rebuild)
    facts = image.facts()
    print(
        f"vm: image {facts['key']} ready in {time.monotonic() - start:.1f} s: "
        f"kernel {facts['kernel']}, rootfs {facts['rootfs_used_bytes'] / 2**20:.0f}"
        f" MiB used of {facts['rootfs_bytes'] / 2**20:.0f} MiB ({image.directory})"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    start = time.monotonic()
    image = build.ensure_image(rebuild=args.rebuild)
    image_seconds = time.monotonic() - start
    share = args.share.resolve()
    out = args.out or share / "build" / "vm" / args.job.stem
    print(f"vm: running {args.job} (image {image_seconds:.1f} s)", flush=True)
    result = runner.run_job(
        args.job, image=image, repo=share, out=out, timeout=args.timeout,
        memory_mb=args.memory, echo=not args.quiet,
    )  # fmt: skip
    print(
        f"vm: image {image_seconds:.1f} s, {result.summary()}; "
        f"overall {time.monotonic() - start:.1f} s",
        flush=True,
    )
    return result.exit_code


def _info() -> int:
    cache = Cache()
    key = image_key()
    image = cache.image(key)
    info = {
        "cache": str(cache.root),
        "key": key,
        "image": str(image.directory),
        "built": image.complete(),
    }
    print(json.dumps(info, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
