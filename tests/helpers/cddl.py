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


def _rules_for(op: object) -> list[str]:
    """The frame rules worth trying for a server frame with ``op`` (its own, or every reply)."""
    if op == "ok":
        return [r for r in LEAF_SCHEMAS["s2c"] if r.endswith("-ok")]
    name = {"error": "error-reply", "ack": "ack-reply"}.get(str(op), f"{str(op).replace('.', '-')}-push")
    return [name] if name in LEAF_SCHEMAS["s2c"] else list(LEAF_SCHEMAS["s2c"])


def _shape(value: object) -> object:
    """What the schema can tell apart: types, map keys, byte lengths, integer ranges (not text)."""
    if isinstance(value, dict):
        return tuple((k, _shape(v)) for k, v in value.items())
    if isinstance(value, list):
        return ("list", tuple(sorted({repr(_shape(v)) for v in value})))
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, int):
        return ("int", value < 0, value >= 2**53)
    if isinstance(value, bytes):
        return ("bytes", len(value))
    return type(value).__name__


# Validating one frame against the schema costs ~0.3 ms (pycddl); a test that fans out 80,000
# messages cannot pay that per frame. Frames with the same shape get the same verdict, so each
# shape is validated once per test session — every frame is still checked, by its shape.
_valid_shapes: set[object] = set()


def assert_valid_server_frame(data: bytes) -> None:
    """Fail unless the schema accepts ``data`` as a server frame."""
    import cbor2

    frame = cbor2.loads(data)
    shape = _shape(frame)
    if shape in _valid_shapes:
        return
    for rule in _rules_for(frame.get("op") if isinstance(frame, dict) else None):
        try:
            LEAF_SCHEMAS["s2c"][rule].validate_cbor(data)
        except Exception:  # pycddl raises its own ValidationError
            continue
        _valid_shapes.add(shape)
        return
    raise AssertionError(f"server frame not in protocol/chatd.cddl: {frame!r}")
