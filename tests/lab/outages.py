"""Outages for the supervisor's tests and benchmarks, injected in the lab.

- ``blackhole(lab, n)``: every packet between the customer and AWS endpoint
  ``n`` dropped on the way (in ``inet``), silently: no ICMP, no IKE delete;
- ``restore(lab, n)``: the path is back;
- ``restart_endpoint(lab, n, down_for)``: AWS endpoint ``n``'s charon killed
  and started again, with no memory of the tunnel (as AWS replacing it);
- ``delete_tunnel(lab, n)``: AWS endpoint ``n`` closes the tunnel cleanly
  (IKE delete), as when AWS replaces an endpoint with notice.
"""

from __future__ import annotations

import time

from tests.lab import aws_peer, charon
from tests.lab.lab import Lab

TABLE = "lab_outage"


def _table(lab: Lab, number: int) -> str:
    return f"{TABLE}{number}"


def blackhole(lab: Lab, number: int) -> None:
    peer = lab.addresses.tunnel(number).outside
    table = _table(lab, number)
    script = (
        f"table ip {table} {{\n"
        "  chain forward {\n"
        "    type filter hook forward priority -10; policy accept;\n"
        f"    ip daddr {peer} drop\n"
        f"    ip saddr {peer} drop\n"
        "  }\n"
        "}\n"
    )
    lab.exec("inet", "nft", "-f", "-", input_text=script)


def restore(lab: Lab, number: int) -> None:
    lab.exec("inet", "nft", "delete", "table", "ip", _table(lab, number), check=False)


def blackholed(lab: Lab, number: int) -> bool:
    done = lab.exec(
        "inet", "nft", "list", "table", "ip", _table(lab, number), check=False
    )
    return done.returncode == 0


def restart_endpoint(lab: Lab, number: int, down_for: float) -> None:
    """Kill endpoint ``number``'s charon, wait, start it fresh."""
    lab.restart_aws_endpoint(number, down_for)


def delete_tunnel(lab: Lab, number: int) -> None:
    """The endpoint sends an IKE delete for its tunnel (and forgets it)."""
    with charon.session(lab.aws_vici(number)) as ses:
        for _ in ses.terminate({"ike": aws_peer.CONN_NAME, "timeout": "3000"}):
            pass


def wait_for(condition: object, timeout: float, step: float = 0.1) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())
