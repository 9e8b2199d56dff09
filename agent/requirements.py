"""DvSum's requirements: the second validation layer, and the proposals.

DvSum's guide asks for IKEv2, AES-128-CBC, SHA-1 / HMAC-SHA1-96, DH group
14 (never group 2), lifetimes of 28800 s (IKE) and 3600 s (ESP), DPD every
10 s with 3 retries, MTU 1436 and MSS 1379 (:mod:`agent.profile`).

AWS's text and XML downloads print AWS's defaults (IKEv1 when downloaded
that way, DH group 2) whatever the tunnel really allows, so what they
print only ever leads to a warning naming what dvsum-vpn uses instead.
The JSON of ``describe-vpn-connections`` shows what each tunnel really
accepts (:class:`agent.model.TunnelOptions`): the proposals follow those
lists, and lists that leave nothing strongSwan offers, or only DH groups
weaker than group 14, are errors.  So is a tunnel that refuses IKEv2.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from agent import profile
from agent.model import Connection, Printed, Routing, Tunnel, TunnelOptions

Finding = tuple[str, str]
T = TypeVar("T")

# AWS's names -> strongSwan's.  AEAD (GCM) ciphers go in proposals of their
# own: in IKE with a PRF instead of an integrity algorithm, in ESP alone.
ENCRYPTION = {
    "AES128": "aes128",
    "AES256": "aes256",
    "AES128-GCM-16": "aes128gcm16",
    "AES256-GCM-16": "aes256gcm16",
}
AEAD = frozenset({"AES128-GCM-16", "AES256-GCM-16"})
INTEGRITY = {
    "SHA1": "sha1",
    "SHA2-256": "sha256",
    "SHA2-384": "sha384",
    "SHA2-512": "sha512",
}
PRF = {name: f"prf{algorithm}" for name, algorithm in INTEGRITY.items()}
# DH groups dvsum-vpn proposes: group 14 and the stronger ones.
DH_GROUPS = {
    14: "modp2048",
    15: "modp3072",
    16: "modp4096",
    17: "modp6144",
    18: "modp8192",
    19: "ecp256",
    20: "ecp384",
    21: "ecp521",
    23: "modp2048s224",
    24: "modp2048s256",
    31: "curve25519",
    32: "curve448",
}
# Groups weaker than group 14: never proposed (RFC 8247; DvSum forbids 2).
WEAK_DH_GROUPS = frozenset({1, 2, 5, 22})

# What a tunnel accepts when TunnelOptions leave a list out.
AWS_ENCRYPTION = ("AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16")
AWS_INTEGRITY = ("SHA1", "SHA2-256", "SHA2-384", "SHA2-512")
AWS_PHASE1_DH: tuple[int, ...] = (2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24)
AWS_PHASE2_DH: tuple[int, ...] = (2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24)

PREFERRED_ENCRYPTION = "AES128"
PREFERRED_INTEGRITY = "SHA1"
PREFERRED_DH_GROUP = 14

DPD_TIMEOUTS = (30, 40)  # AWS's DPD timeouts that mean DvSum's 10 s x 3


@dataclass(frozen=True)
class Proposals:
    """swanctl's ``proposals`` (IKE) and ``esp_proposals`` for a tunnel."""

    ike: tuple[str, ...]
    esp: tuple[str, ...]


DEFAULT = Proposals(
    ike=(profile.DVSUM.ike_proposal,), esp=(profile.DVSUM.esp_proposal,)
)


@dataclass(frozen=True)
class _Phase:
    proposals: tuple[str, ...]
    errors: tuple[Finding, ...]
    unknown: tuple[str, ...]


def proposals(tunnel: Tunnel) -> Proposals:
    """DvSum's ``aes128-sha1-modp2048`` unless the tunnel's real lists (from
    the JSON) leave it out; then what the lists allow, DvSum's choices first.
    """
    options = tunnel.options
    if options is None:
        return DEFAULT
    ike, esp = _phase(options, 1, ""), _phase(options, 2, "")
    if ike.errors or esp.errors:
        return DEFAULT  # load refused this tunnel already; never rendered
    return Proposals(ike=ike.proposals, esp=esp.proposals)


def errors(index: int, tunnel: Tunnel) -> list[Finding]:
    """What keeps this tunnel from meeting DvSum's requirements."""
    options = tunnel.options
    if options is None:
        return []
    prefix = f"tunnels[{index}].options."
    found: list[Finding] = []
    if options.ike_versions is not None and "ikev2" not in options.ike_versions:
        found.append(
            (
                prefix + "ike_versions",
                f"the tunnel accepts only {', '.join(options.ike_versions)}; "
                "DvSum requires IKEv2: ask DvSum to allow ikev2 on it",
            )
        )
    found += _phase(options, 1, prefix).errors
    found += _phase(options, 2, prefix).errors
    return found


def warnings(connection: Connection) -> list[Finding]:
    """Where the file differs from DvSum's requirements without being
    wrong, and what dvsum-vpn does instead; one line per message, naming
    every tunnel it concerns."""
    by_message: dict[str, list[int]] = {}
    for index, tunnel in enumerate(connection.tunnels):
        for message in _tunnel_warnings(tunnel, connection.layout):
            by_message.setdefault(message, []).append(index)
    found = [
        (", ".join(f"tunnels[{i}]" for i in indexes), message)
        for message, indexes in by_message.items()
    ]
    if connection.routing is Routing.BGP:
        found.insert(
            0,
            (
                "routing",
                "the connection uses BGP; dvsum-vpn routes statically and runs no "
                "BGP speaker, so AWS learns no route back to you from it: ask "
                "DvSum for static routing (the guide's default)",
            ),
        )
    return found


def _tunnel_warnings(tunnel: Tunnel, layout: str) -> list[str]:
    dvsum = profile.DVSUM
    options, printed = tunnel.options, tunnel.printed
    if options:
        out = _options_warnings(tunnel, options)
    else:
        out = _printed_warnings(printed, layout)
    ike_lifetime = (options and options.phase1_lifetime_seconds) or printed.ike_lifetime
    esp_lifetime = (options and options.phase2_lifetime_seconds) or printed.esp_lifetime
    for what, value, wanted in (
        ("IKE (phase 1)", ike_lifetime, dvsum.ike_lifetime),
        ("ESP (phase 2)", esp_lifetime, dvsum.esp_lifetime),
    ):
        if value is not None and value != wanted:
            out.append(
                f"the {what} lifetime is {value} s, DvSum requires {wanted} s: "
                "dvsum-vpn keeps its own timers and accepts AWS's rekeys"
            )
    dpd = (printed.dpd_delay, printed.dpd_retries)
    if dpd[0] not in (None, dvsum.dpd_delay) or dpd[1] not in (None, dvsum.dpd_retries):
        out.append(
            f"the file prints DPD every {dpd[0]} s, {dpd[1]} retries; dvsum-vpn "
            f"uses DvSum's {dvsum.dpd_delay} s and {dvsum.dpd_retries}"
        )
    if printed.mtu not in (None, dvsum.mtu):
        out.append(
            f"the file prints MTU {printed.mtu}; dvsum-vpn uses {dvsum.mtu} on "
            f"XFRM interfaces ({profile.LIBIPSEC_MTU} with kernel-libipsec), as "
            "DvSum requires"
        )
    if printed.mss not in (None, dvsum.mss):
        out.append(
            f"the file prints TCP MSS {printed.mss}; dvsum-vpn clamps to "
            f"{dvsum.mss} ({profile.LIBIPSEC_MSS} with kernel-libipsec), as DvSum "
            "requires"
        )
    return out


def _printed_warnings(printed: Printed, layout: str) -> list[str]:
    """What AWS's text and XML files print is its defaults: say what we use."""
    out = []
    if printed.ike_version not in (None, profile.DVSUM.ike_version):
        out.append(
            f"the file prints IKEv{printed.ike_version}; dvsum-vpn uses IKEv2, as "
            "DvSum requires"
        )
    elif printed.ike_version is None and layout == "generic":
        out.append(
            "the file names no IKE version, as AWS's downloads did before IKEv2 "
            "(they are for IKEv1); dvsum-vpn uses IKEv2, as DvSum requires"
        )
    groups = (*printed.ike_dh_groups, *printed.esp_dh_groups)
    weak = sorted({g for g in groups if g < 14 or g in WEAK_DH_GROUPS})
    if weak:
        out.append(
            f"the file prints DH group {','.join(map(str, weak))}; dvsum-vpn "
            "proposes group 14 (modp2048), as DvSum requires"
        )
    for what, value, known, wanted in (
        ("IKE encryption", printed.ike_encryption, _AES128, "aes128"),
        ("IKE integrity", printed.ike_integrity, _SHA1, "sha1"),
        ("ESP encryption", printed.esp_encryption, _AES128, "aes128"),
        ("ESP integrity", printed.esp_integrity, _SHA1, "sha1"),
    ):
        if value is not None and not known.fullmatch(_squash(value)):
            out.append(
                f"the file prints {what} {value!r}; dvsum-vpn proposes {wanted}, "
                "as DvSum requires"
            )
    return out


_AES128 = re.compile(r"aes128(cbc)?")
_SHA1 = re.compile(r"(hmac)?sha1(96)?")


def _squash(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


def _options_warnings(tunnel: Tunnel, options: TunnelOptions) -> list[str]:
    out = []
    chosen = proposals(tunnel)
    if chosen != DEFAULT:
        out.append(
            f"AWS's side does not accept {profile.DVSUM.ike_proposal}; dvsum-vpn "
            f"proposes {','.join(chosen.ike)} (IKE) and {','.join(chosen.esp)} "
            "(ESP), from the tunnel's own lists"
        )
    unknown = sorted(
        set(_phase(options, 1, "").unknown + _phase(options, 2, "").unknown)
    )
    if unknown:
        out.append(f"dvsum-vpn does not know {', '.join(unknown)}: not proposed")
    timeout = options.dpd_timeout_seconds
    if timeout is not None and timeout not in DPD_TIMEOUTS:
        out.append(
            f"AWS declares this side dead after {timeout} s without DPD "
            "replies; DvSum requires 10 s x 3 (AWS's 30 or 40 s)"
        )
    if options.dpd_timeout_action == "none":
        out.append(
            "AWS takes no action when DPD times out (DpdTimeoutAction none); "
            "dvsum-vpn restarts the tunnel from this side"
        )
    return out


def _phase(options: TunnelOptions, phase: int, prefix: str) -> _Phase:
    """One phase's proposals from the tunnel's lists, or why there are none."""
    if phase == 1:
        encryption = options.phase1_encryption_algorithms
        integrity = options.phase1_integrity_algorithms
        groups = options.phase1_dh_group_numbers
        default_groups = AWS_PHASE1_DH
    else:
        encryption = options.phase2_encryption_algorithms
        integrity = options.phase2_integrity_algorithms
        groups = options.phase2_dh_group_numbers
        default_groups = AWS_PHASE2_DH
    enc = encryption or AWS_ENCRYPTION
    integ = integrity or AWS_INTEGRITY
    dh = groups or default_groups
    unknown = tuple(
        [e for e in enc if e not in ENCRYPTION]
        + [i for i in integ if i not in INTEGRITY]
    ) + tuple(
        f"DH group {g}" for g in dh if g not in DH_GROUPS and g not in WEAK_DH_GROUPS
    )
    key = f"{prefix}phase{phase}_"
    found: list[Finding] = []

    if (
        PREFERRED_ENCRYPTION in enc
        and PREFERRED_INTEGRITY in integ
        and PREFERRED_DH_GROUP in dh
    ):
        default = DEFAULT.ike if phase == 1 else DEFAULT.esp
        return _Phase(default, (), unknown)

    ordered = [e for e in _first(enc, PREFERRED_ENCRYPTION) if e in ENCRYPTION]
    cbc = [ENCRYPTION[e] for e in ordered if e not in AEAD]
    gcm = [ENCRYPTION[e] for e in ordered if e in AEAD]
    names = [i for i in _first(integ, PREFERRED_INTEGRITY) if i in INTEGRITY]
    strong = [DH_GROUPS[g] for g in _first(dh, PREFERRED_DH_GROUP) if g in DH_GROUPS]

    if not cbc and not gcm:
        found.append(
            (
                key + "encryption_algorithms",
                f"none of {', '.join(enc)} is an encryption algorithm strongSwan "
                f"offers ({', '.join(ENCRYPTION)})",
            )
        )
    if not names and (cbc or phase == 1):
        found.append(
            (
                key + "integrity_algorithms",
                f"none of {', '.join(integ)} is an integrity algorithm strongSwan "
                f"offers ({', '.join(INTEGRITY)})",
            )
        )
    if not strong:
        found.append((key + "dh_group_numbers", _weak_groups(dh)))
    if found:
        return _Phase((), tuple(found), unknown)

    out = []
    integrity_names = [INTEGRITY[i] for i in names]
    if cbc and integrity_names:
        out.append("-".join(cbc + integrity_names + strong))
    if gcm and phase == 1 and names:
        out.append("-".join(gcm + [PRF[i] for i in names] + strong))
    if gcm and phase == 2:
        out.append("-".join(gcm + strong))
    return _Phase(tuple(out), (), unknown)


def _weak_groups(groups: Sequence[int]) -> str:
    listed = ", ".join(map(str, groups))
    if all(g in WEAK_DH_GROUPS or g < 14 for g in groups):
        return (
            f"only DH groups weaker than group 14 ({listed}); DvSum requires "
            "group 14 (modp2048) or stronger"
        )
    return f"none of the DH groups {listed} is one strongSwan offers"


def _first(values: Sequence[T], preferred: T) -> list[T]:
    """``values`` with ``preferred`` moved to the front, duplicates dropped."""
    out = [preferred] if preferred in values else []
    for value in values:
        if value not in out:
            out.append(value)
    return out
