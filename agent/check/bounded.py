"""Run blocking calls in daemon threads and stop waiting at a deadline.

A resolver stuck in getaddrinfo or a socket with no timeout of its own
cannot hold a check past its budget: the caller gets ``TIMED_OUT`` and the
thread is left to finish (or not) on its own; being a daemon thread, it
never keeps the process alive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A call's value, the exception it raised, or neither (timed out)."""

    value: T | None = None
    error: BaseException | None = None
    done: bool = False


class _Call(Generic[T]):
    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self.outcome: Outcome[T] = Outcome()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.outcome = Outcome(value=self._fn(), done=True)
        except BaseException as err:  # handed to the caller
            self.outcome = Outcome(error=err, done=True)


def call_all(fns: Sequence[Callable[[], T]], timeout: float) -> list[Outcome[T]]:
    """Start every call at once; return their outcomes after at most
    ``timeout`` seconds, in the order given."""
    calls = [_Call(fn) for fn in fns]
    for one in calls:
        one.thread.start()
    deadline = time.monotonic() + timeout
    for one in calls:
        one.thread.join(max(0.0, deadline - time.monotonic()))
    return [one.outcome for one in calls]


def call(fn: Callable[[], T], timeout: float) -> Outcome[T]:
    (outcome,) = call_all([fn], timeout)
    return outcome
