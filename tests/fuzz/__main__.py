"""``python -m tests.fuzz``: mutated files through every parser (``make fuzz``).

Exit status 0 when nothing but ``InputError`` came out of any parser, 1
otherwise; each finding's first input is kept under ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.fuzz.run import Stats, run, save
from tests.fuzz.targets import targets

CHUNK = 5000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz")
    parser.add_argument("--count", type=int, default=100_000, help="files per parser")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", help="comma-separated targets (default: all)")
    parser.add_argument("--out", type=Path, help="where to keep failing inputs")
    args = parser.parse_args(argv)

    names = [t.name for t in targets()]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    work = [
        (name, min(CHUNK, args.count - start), args.seed * 1_000_003 + start)
        for name in names
        for start in range(0, args.count, CHUNK)
    ]
    totals = {name: Stats(name) for name in names}
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run, *item) for item in work]
        for done, future in enumerate(futures, start=1):
            result = future.result()
            totals[result.name].merge(result)
            print(
                f"\r{done}/{len(futures)} chunks, {time.monotonic() - started:.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )
    print(file=sys.stderr)

    print(f"{'parser':<11} {'files':>8} {'refused':>8} {'accepted':>8} "
          f"{'other':>6} {'slowest':>8}")  # fmt: skip
    findings = 0
    for stats in totals.values():
        other = sum(f.count for f in stats.findings.values())
        findings += len(stats.findings)
        print(
            f"{stats.name:<11} {stats.fed:>8} {stats.refused:>8} {stats.accepted:>8} "
            f"{other:>6} {stats.slowest:>7.3f}s"
        )
    print(f"{time.monotonic() - started:.0f} s, seed {args.seed}")
    if not findings:
        print("no exception other than InputError")
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="dvsum-fuzz-"))
    for stats in totals.values():
        paths = save(stats, out)
        for finding, path in zip(stats.findings.values(), paths, strict=True):
            print(f"{stats.name}: {finding.kind} x{finding.count}: {finding.message}")
            print(f"    first input: {path}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
