"""The report three ways: a table for the terminal, JSON for scripts, and a
text file to send to DvSum.  None of them holds a pre-shared key: results
carry addresses, states and charon's log lines, never the secrets."""

from __future__ import annotations

import platform
import textwrap
from typing import Any

from agent import __version__
from agent.check.result import Result
from agent.check.runner import Report
from agent.check.seen import Diagnosis

WIDTH = 88
INDENT = " " * 13


def public(report: Report) -> dict[str, Any]:
    """The JSON form (``--json``)."""
    return {
        "ok": report.ok,
        "started": report.started,
        "seconds": round(report.seconds, 3),
        "first_failure": report.first_failure,
        "checks": [
            {**r.public(), "diagnosis": _diagnosis(report, r.name)}
            for r in report.results
        ],
        "facts": dict(report.facts),
    }


def _diagnosis(report: Report, name: str) -> dict[str, Any] | None:
    found = next((d for d in report.diagnoses if d.check == name), None)
    return found.public() if found else None


def table(report: Report, every_item: bool = False) -> str:
    """One row per check; under a failing one its failed items, the cause
    and the fix (``every_item``: every item, passing ones too)."""
    lines = [f"{'CHECK':<10} {'RESULT':<6} {'TIME':>7}  DETAIL"]
    for result in report.results:
        word = "pass" if result.ok else "FAIL"
        head = f"{result.name:<10} {word:<6} {result.seconds:>6.2f}s  "
        lines += textwrap.wrap(
            result.summary, WIDTH, initial_indent=head,
            subsequent_indent=" " * len(head), break_on_hyphens=False,
        )  # fmt: skip
        shown = result.items if every_item else result.failures
        if len(result.items) > 1 or not result.ok:
            for item in shown:
                mark = "ok " if item.ok else "-- "
                lines += _wrap(mark + item.detail)
        diagnosis = next((d for d in report.diagnoses if d.check == result.name), None)
        if diagnosis is not None:
            lines += _wrap_diagnosis(diagnosis)
    failed = [r.name for r in report.results if not r.ok]
    if failed:
        lines.append(
            f"{len(failed)} of {len(report.results)} checks failed "
            f"(first: {failed[0]}) in {report.seconds:.2f} s"
        )
    else:
        lines.append(f"all {len(report.results)} checks passed in "
                     f"{report.seconds:.2f} s")  # fmt: skip
    return "\n".join(lines)


def _wrap(text: str, indent: str = INDENT) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent + "   ",
        break_on_hyphens=False,
    )  # fmt: skip


def _wrap_diagnosis(diagnosis: Diagnosis) -> list[str]:
    lines = _wrap("cause: " + diagnosis.cause)
    lines += _wrap("fix:   " + diagnosis.fix)
    if diagnosis.guide and not diagnosis.follows:
        lines += _wrap(f"guide: troubleshooting row '{diagnosis.guide}'")
    return lines


def report_text(report: Report) -> str:
    """The file ``--report`` writes, to send to DvSum as it is."""
    facts = report.facts
    tunnels = ", ".join(
        f"{t['name']} {t['aws_outside_address']} ({t['role']})"
        for t in facts.get("tunnels", [])
    )
    plane = facts.get("data_plane", "")
    if facts.get("libipsec"):
        plane += " (kernel-libipsec)"
    verdict = "PASS: every check passed" if report.ok else (
        f"FAIL: first failing check: {report.first_failure}")  # fmt: skip
    lines = [
        "dvsum-vpn connectivity report (DvSum site-to-site VPN setup guide, "
        "connectivity tests)",
        "",
        f"time:          {report.started}",
        f"host:          {platform.node()}",
        f"agent:         dvsum-vpn {__version__}, "
        f"{facts.get('charon_version') or 'charon not reachable'}",
        f"customer:      {facts.get('customer_cidr')}, IKE identity "
        f"{facts.get('local_id')}",
        f"landing zone:  {facts.get('landing_zone')}, dns.mode {facts.get('dns_mode')}",
        f"tunnels:       {tunnels}",
        f"data plane:    {plane}",
        f"result:        {verdict} ({report.seconds:.2f} s)",
        "",
        table(report, every_item=True),
    ]
    trail = _charon_lines(report.results)
    if trail:
        lines += ["", "charon's log lines for the tunnels check initiated:", *trail]
    counters = facts.get("counters") or {}
    if counters:
        lines += ["", "bytes each tunnel moved during the network checks:"]
        lines += [
            f"  {name}: out {c.get('bytes_out', 0)} B, in {c.get('bytes_in', 0)} B"
            for name, c in counters.items()
        ]
    return "\n".join(lines) + "\n"


def _charon_lines(results: tuple[Result, ...]) -> list[str]:
    out = []
    for result in results:
        for item in result.items:
            for line in item.facts.get("charon_lines", ()):
                out.append(f"  {item.target}: {line}")
    return out
