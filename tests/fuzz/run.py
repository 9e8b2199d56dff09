"""Feed mutated files to a target; count what came out, keep what broke.

Anything but ``InputError`` is a finding: grouped by exception type and
the innermost frame in ``agent/``, with the first input that raised it.
"""

from __future__ import annotations

import random
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from agent.errors import InputError
from tests.fuzz.mutate import mutate, splice
from tests.fuzz.targets import Target, targets

_TARGETS: dict[str, Target] = {}


def target(name: str) -> Target:
    if not _TARGETS:
        _TARGETS.update((t.name, t) for t in targets())
    return _TARGETS[name]


@dataclass
class Finding:
    kind: str  # "ValueError at agent/sources/build.py:123"
    message: str
    text: str
    count: int = 1


@dataclass
class Stats:
    name: str
    fed: int = 0
    refused: int = 0
    accepted: int = 0
    slowest: float = 0.0
    findings: dict[str, Finding] = field(default_factory=dict)

    def merge(self, other: Stats) -> None:
        self.fed += other.fed
        self.refused += other.refused
        self.accepted += other.accepted
        self.slowest = max(self.slowest, other.slowest)
        for kind, finding in other.findings.items():
            if kind in self.findings:
                self.findings[kind].count += finding.count
            else:
                self.findings[kind] = finding


def run(name: str, count: int, seed: int) -> Stats:
    """``count`` mutated files through target ``name``."""
    chosen = target(name)
    rng = random.Random(f"{name}:{seed}")
    stats = Stats(name)
    seeds = chosen.seeds
    for _ in range(count):
        text = rng.choice(seeds)
        if rng.random() < 0.05:
            text = splice(rng, text, rng.choice(seeds))
        text = mutate(rng, text, rounds=rng.choice((1, 1, 2, 3, 5, 8)))
        stats.fed += 1
        started = time.perf_counter()
        try:
            chosen.call(text)
        except InputError:
            stats.refused += 1
        except Exception as err:  # every other one is a finding
            _note(stats, err, text)
        else:
            stats.accepted += 1
        stats.slowest = max(stats.slowest, time.perf_counter() - started)
    return stats


def _note(stats: Stats, err: Exception, text: str) -> None:
    frames = traceback.extract_tb(err.__traceback__)
    ours = [f for f in frames if "/agent/" in f.filename] or frames
    where = ours[-1]
    short = where.filename[where.filename.rfind("/agent/") + 1 :]
    kind = f"{type(err).__name__} at {short}:{where.lineno}"
    if kind in stats.findings:
        stats.findings[kind].count += 1
    else:
        stats.findings[kind] = Finding(kind, str(err)[:200], text)


def save(stats: Stats, directory: Path) -> list[Path]:
    """Each finding's first input, for ``sources.load(path.read_text())``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for number, finding in enumerate(stats.findings.values(), start=1):
        path = directory / f"{stats.name}-{number}.txt"
        path.write_text(finding.text, encoding="utf-8")
        written.append(path)
    return written
