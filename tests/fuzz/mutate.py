"""Mutations of text files: what truncation, editing, copy and paste and
encoding accidents do to a configuration file, and what an attacker might.

Every mutator takes a ``random.Random`` and a string and returns a string
without surrogates, as every file decoded strictly as UTF-8 is.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

Mutator = Callable[[random.Random, str], str]

# Characters worth inserting: the layouts' punctuation, digits, whitespace
# of every kind, and Unicode that looks like ASCII or breaks lines.
CHARACTERS = (
    " \t\n\r:-#=<>/\"'|{}[],.0123456789abcdefxX\\&;!"
    "\u00a0\u2028\u2029\x85\x0b\x0c\ufeff\u2500\u0660\u00e9\u00df\x00\x7f"
    "\U0001f600\u202e"
)
# Tokens from the layouts and values at the edges of every range.
TOKENS = (
    "IPSec Tunnel #3", "IPSEC Tunnel #1", "#1: Internet Key Exchange Configuration",
    "#2: IPSec Configuration", "#3: Tunnel Interface Configuration",
    "#4: Border Gateway Protocol (BGP) Configuration:",
    "#4: Static Routing Configuration:", "Outside IP Addresses:",
    "Inside IP Addresses", "Inside IPv6 Addresses", "ESP (IPSec Phase 2)",
    "Additional Notes and Questions", "Tunnel Heartbeat",
    "  - Customer Gateway ASN : 65000", "  - Virtual Private Gateway ASN : 64512",
    "  - Neighbor IP Address : 169.254.1.1", "  - Next hop : 169.254.0.1",
    "  - Pre-Shared Key : ", "  - IKE version : IKEv3", "  - Diffie-Hellman : Group 99",
    "VPN Connection ID : vpn-0", "conn Tunnel3", "\tleftid=", "\tright=",
    '\t#leftupdown="/etc/ipsec.d/aws-updown.sh -ln T -ll 1 -lr 2"',
    "\tike=aes128-sha1-modp1024!", "keyexchange=ikev9", ' : PSK "', "tunnel1: ",
    "<ipsec_tunnel>", "</ipsec_tunnel>", "<vpn_connection>", "</vpn_connection>",
    "<tunnel_inside_ipv6_address><ip_address>::</ip_address>"
    "</tunnel_inside_ipv6_address>",
    "<!DOCTYPE x>", "<?xml version='1.0'?>", "<![CDATA[x]]>", "&amp;", "&#0;",
    "&#x110000;", "&undefined;", "<!-- -->", '{"VpnConnections": []}',
    '"TunnelOptions": [{}]', '"Value"', "null", "true", "[]", "{}", "1e999",
    "NaN", "-Infinity", "\\u0000", "\\ud800", "-1", "0", "00", "4294967296",
    "9" * 30, "9" * 5000, "169.254.169.254", "169.254.0.1/30", "169.254.0.1/31",
    "0.0.0.0", "255.255.255.255", "1.2.3", "1.2.3.4.5", "01.02.03.04",
    "2001:db8::1/126", "fd00::/126", "::", "ikev1", "ikev3", "AES999", "SHA0",
    "modp1024s160", "group2", "Group 14 (modp2048)", "28800 seconds (8 hours)",
    "<provided securely>", "|", "x" * 300,
)  # fmt: skip

_NUMBER = re.compile(r"\d+")
_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")


def _span(rng: random.Random, text: str, most: int = 200) -> tuple[int, int]:
    start = rng.randrange(len(text) + 1)
    return start, min(len(text), start + rng.randint(0, most))


def delete(rng: random.Random, text: str) -> str:
    start, end = _span(rng, text)
    return text[:start] + text[end:]


def duplicate(rng: random.Random, text: str) -> str:
    start, end = _span(rng, text, 2000)
    at = rng.randrange(len(text) + 1)
    return text[:at] + text[start:end] + text[at:]


def insert_characters(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    chunk = "".join(rng.choice(CHARACTERS) for _ in range(rng.randint(1, 8)))
    return text[:at] + chunk + text[at:]


def insert_token(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    token = rng.choice(TOKENS)
    if rng.random() < 0.5:
        token = "\n" + token + "\n"
    return text[:at] + token + text[at:]


def replace_number(rng: random.Random, text: str) -> str:
    found = list(_NUMBER.finditer(text))
    if not found:
        return insert_token(rng, text)
    match = rng.choice(found)
    value = rng.choice(
        ["", "-1", "0", "1", "2", "14", "30", "65535", "65536", "4294967296",
         "9" * 20, "9" * 5000, "١٤", "1.5", "0x10", " 1 "]
    )  # fmt: skip
    return text[: match.start()] + value + text[match.end() :]


def replace_address(rng: random.Random, text: str) -> str:
    found = list(_ADDRESS.finditer(text))
    if not found:
        return insert_token(rng, text)
    match = rng.choice(found)
    value = rng.choice(
        ["169.254.169.253", "169.254.0.2", "10.0.0.1", "203.0.113.44", "1.2.3",
         "256.1.1.1", "2001:db8::1", "", "0.0.0.0", match.group(0) + "/30",
         "198.51.100.37", "192.0.2.14"]
    )  # fmt: skip
    return text[: match.start()] + value + text[match.end() :]


def swap_lines(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


def delete_lines(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    start = rng.randrange(len(lines))
    del lines[start : start + rng.randint(1, 20)]
    return "\n".join(lines)


def duplicate_lines(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    start = rng.randrange(len(lines))
    block = lines[start : start + rng.randint(1, 60)]
    at = rng.randrange(len(lines) + 1)
    return "\n".join(lines[:at] + block + lines[at:])


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text) + 1)]


def line_endings(rng: random.Random, text: str) -> str:
    return text.replace("\n", rng.choice(["\r\n", "\r", "\n\n", "\u2028", " \t\n"]))


def change_case(rng: random.Random, text: str) -> str:
    start, end = _span(rng, text, 400)
    chunk = text[start:end]
    chunk = rng.choice([chunk.upper(), chunk.lower(), chunk.swapcase()])
    return text[:start] + chunk + text[end:]


def mutate_json(rng: random.Random, text: str) -> str:
    """A structural edit of JSON: a value replaced, a key dropped, an item
    repeated; the embedded XML edited as text."""
    try:
        data = json.loads(text)
    except ValueError:
        return insert_token(rng, text)
    nodes = list(_nodes(data))
    parent, key = rng.choice(nodes) if nodes else (None, None)
    if parent is None:
        return text
    choice = rng.randrange(5)
    if choice == 0 and isinstance(parent, dict):
        del parent[key]
    elif choice == 1 and isinstance(parent, list):
        parent.insert(key, parent[key])
    elif choice == 2 and isinstance(parent[key], str) and len(parent[key]) > 40:
        parent[key] = mutate(
            rng, parent[key], rounds=rng.randint(1, 3), structured=False
        )
    else:
        parent[key] = rng.choice(
            [None, True, False, -1, 0, 2**64, 1.5, "", "x" * 100, [], {}, [{}],
             {"Value": 14}, [{"Value": "ikev2"}], "AES128", "192.0.2.99",
             "169.254.0.0/30", rng.choice(TOKENS)]
        )  # fmt: skip
    return json.dumps(data, indent=rng.choice([None, 2, 4]))


def _nodes(data: Any) -> Any:
    """(container, key) for every value below ``data``."""
    stack = [data]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            yield node, key
            if isinstance(value, dict | list):
                stack.append(value)


def splice(rng: random.Random, text: str, other: str) -> str:
    """The start of one file and the end of another, as a bad paste makes."""
    return text[: rng.randrange(len(text) + 1)] + other[rng.randrange(len(other) + 1) :]


TEXT_MUTATORS: tuple[Mutator, ...] = (
    delete, duplicate, insert_characters, insert_token, replace_number,
    replace_address, swap_lines, delete_lines, duplicate_lines, truncate,
    line_endings, change_case,
)  # fmt: skip


def mutate(
    rng: random.Random, text: str, rounds: int = 3, structured: bool = True
) -> str:
    """``text`` after ``rounds`` random mutations."""
    for _ in range(rounds):
        if structured and text.lstrip().startswith(("{", "[")) and rng.random() < 0.5:
            text = mutate_json(rng, text)
        else:
            text = rng.choice(TEXT_MUTATORS)(rng, text)
    return text
