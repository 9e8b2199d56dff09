"""The agent's exceptions, grouped by what the caller should do next.

Every error the agent raises on purpose derives from ``DvsumError``; the
CLI maps each class to one documented exit code.  Messages never carry a
pre-shared key.
"""

from __future__ import annotations


class DvsumError(Exception):
    """Root of the agent's own errors."""

    exit_code = 1


class InputError(DvsumError):
    """A file or option the operator gave is wrong: fix it and retry.

    ``problems`` holds every finding as ``(field_path, message)``, so one
    run reports them all.
    """

    exit_code = 2

    def __init__(
        self, message: str, problems: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.problems = problems

    def lines(self) -> list[str]:
        if not self.problems:
            return [str(self)]
        return [f"{path}: {msg}" for path, msg in self.problems]


class ConfigError(InputError):
    """config.yaml (or a file it names) is invalid."""


class TransientError(DvsumError):
    """Something outside the agent is not ready (charon down, timeout)."""

    exit_code = 3


class AccessError(DvsumError):
    """The agent lacks a permission it needs (not root, read-only file)."""

    exit_code = 4


class ApplyError(DvsumError):
    """A step that changes the machine failed; it undid what it started."""

    exit_code = 5
