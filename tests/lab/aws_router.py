"""AWS's side of the return path: replies go through a tunnel that is up.

In the lab the landing zone returns customer traffic through one AWS
endpoint (``Lab.set_return_tunnel``).  Real AWS moves its return traffic to
the other tunnel once its own SA on the current one is gone (DPD timeout,
a delete, an endpoint replacement).  ``ReturnPath`` does the same: a thread
watching both endpoints' SAs over VICI, switching when the current one has
no installed CHILD_SA and the other has.
"""

from __future__ import annotations

import logging
import threading

from tests.lab.lab import Lab

LOG = logging.getLogger(__name__)


def _installed(lab: Lab, number: int) -> bool:
    try:
        sas = lab.aws_sas(number)
    except Exception:  # the endpoint is down or restarting
        return False
    for sa in sas:
        for details in sa.values():
            children = details.get("child-sas", {}).values()
            if details.get("state") == "ESTABLISHED" and any(
                c.get("state") == "INSTALLED" for c in children
            ):
                return True
    return False


class ReturnPath(threading.Thread):
    def __init__(self, lab: Lab, period: float = 0.1) -> None:
        super().__init__(name="aws-return-path", daemon=True)
        self.lab = lab
        self.period = period
        self.switches: list[int] = []
        self._halt = threading.Event()

    def __enter__(self) -> ReturnPath:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        self.join(timeout=5)

    def run(self) -> None:
        while not self._halt.wait(self.period):
            current = self.lab.return_tunnel() or 1
            other = 2 if current == 1 else 1
            if not _installed(self.lab, current) and _installed(self.lab, other):
                self.lab.set_return_tunnel(other)
                self.switches.append(other)
                LOG.info("AWS returns through tunnel %d now", other)
