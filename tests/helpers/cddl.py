"""Validation of frames against protocol/chatd.cddl, one frame rule at a time.

cddl-rs (behind pycddl 0.6.4) leaks map keys matched by a failed alternative of a type choice
into the next alternative, so `a / b` can accept a map that neither `a` nor `b` accepts (e.g. a
client read request passed as server-frame). Validating against each frame rule on its own
avoids that: there the maps are checked as closed, as written.
"""

from __future__ import annotations

from pathlib import Path

from pycddl import Schema

ROOT = Path(__file__).resolve().parents[2]
CDDL = (ROOT / "protocol" / "chatd.cddl").read_text(encoding="utf-8")


def _rule_choices(name: str) -> list[str]:
    """The alternatives of a CDDL rule written as ``name = a / b / …`` (rule names only)."""
    start = CDDL.index(f"\n{name} =") + len(name) + 3
    end = CDDL.index("\n\n", start)
    return [part.strip() for part in CDDL[start:end].split("/")]


def leaves(name: str) -> list[str]:
    """The frame rules (maps) a choice rule stands for, choices expanded recursively."""
    if f"\n{name} = {{" in CDDL:
        return [name]
    return [leaf for alt in _rule_choices(name) for leaf in leaves(alt)]


LEAF_SCHEMAS: dict[str, dict[str, Schema]] = {
    direction: {leaf: Schema(f"root = {leaf}\n" + CDDL) for leaf in leaves(root)}
    for direction, root in (("c2s", "client-frame"), ("s2c", "server-frame"))
}


def accepting_rules(direction: str, data: bytes) -> list[str]:
    """The frame rules of ``direction`` ("c2s" or "s2c") that accept the CBOR ``data``."""
    accepted = []
    for leaf, schema in LEAF_SCHEMAS[direction].items():
        try:
            schema.validate_cbor(data)
        except Exception:  # pycddl raises its own ValidationError
            continue
        accepted.append(leaf)
    return accepted


def assert_valid_server_frame(data: bytes) -> None:
    """Fail unless exactly the schema accepts ``data`` as a server frame."""
    if not accepting_rules("s2c", data):
        import cbor2

        raise AssertionError(f"server frame not in protocol/chatd.cddl: {cbor2.loads(data)!r}")
