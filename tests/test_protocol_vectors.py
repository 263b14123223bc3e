"""protocol/vectors/vectors.json against the CDDL schema and the codec.

Valid client frames must match the schema and decode; valid server frames must match the schema,
decode, and re-encode byte for byte from their dataclass; invalid frames must be refused with
their error code (and rid, and close code where the vector names one).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from pycddl import Schema

from chatd.wire import (
    CLIENT_FRAME_TYPES,
    ERROR_CODES,
    SERVER_FRAME_TYPES,
    Error,
    FrameTooLarge,
    Ok,
    ProtocolError,
    ServerFrame,
    decode_client_frame,
    decode_server_frame,
    encode_client_frame,
    encode_server_frame,
)
from tests.helpers.cddl import LEAF_SCHEMAS, accepting_rules

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "protocol"
VECTORS: list[dict[str, Any]] = json.loads(
    (PROTOCOL / "vectors" / "vectors.json").read_text(encoding="utf-8")
)
CDDL = (PROTOCOL / "chatd.cddl").read_text(encoding="utf-8")
CLIENT_SCHEMA = Schema("root = client-frame\n" + CDDL)
SERVER_SCHEMA = Schema("root = server-frame\n" + CDDL)
_accepting_rules = accepting_rules


def _select(direction: str, valid: bool) -> list[Any]:
    return [
        pytest.param(v, id=v["name"])
        for v in VECTORS
        if v["direction"] == direction and v["valid"] is valid
    ]


def test_vectors_json_is_what_generate_py_writes() -> None:
    spec = importlib.util.spec_from_file_location("generate", PROTOCOL / "vectors" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    on_disk = (PROTOCOL / "vectors" / "vectors.json").read_text(encoding="utf-8")
    assert generate.render() == on_disk, "run python protocol/vectors/generate.py and commit"


def test_vector_format() -> None:
    required = {"name", "direction", "hex", "diagnostic", "valid"}
    for v in VECTORS:
        assert required <= v.keys(), v["name"]
        assert v["direction"] in ("c2s", "s2c")
        bytes.fromhex(v["hex"])
        assert ("error" in v) is (not v["valid"]), v["name"]
        if not v["valid"]:
            assert v["error"] in ERROR_CODES, v["name"]


def test_every_frame_type_has_a_valid_vector() -> None:
    c2s_ops: set[str] = set()
    s2c_ops: set[str] = set()
    for v in VECTORS:
        if v["valid"]:
            op = cbor2.loads(bytes.fromhex(v["hex"]))["op"]
            (c2s_ops if v["direction"] == "c2s" else s2c_ops).add(op)
    assert c2s_ops == set(CLIENT_FRAME_TYPES)
    assert s2c_ops == set(SERVER_FRAME_TYPES)


def test_the_brief_s_invalid_cases_are_all_there() -> None:
    names = {v["name"] for v in VECTORS if not v["valid"] and v["direction"] == "c2s"}
    for name in ("trailing-bytes", "indefinite-map", "tag-on-value", "non-text-key",
                 "duplicate-key", "missing-field", "wrong-type-ch-text", "unknown-op",
                 "frame-too-large", "nesting-too-deep", "huge-int", "cid-15-bytes", "limit-0",
                 "limit-101", "limit--1"):
        assert name in names


@pytest.mark.parametrize("vector", _select("c2s", True))
def test_valid_client_frame(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    CLIENT_SCHEMA.validate_cbor(data)
    assert _accepting_rules("c2s", data) == [f"{cbor2.loads(data)['op'].replace('.', '-')}-req"]
    frame = decode_client_frame(data)
    m = cbor2.loads(data)
    assert frame.op == m.pop("op")
    for key, value in m.items():
        got = getattr(frame, key)
        if key == "resume":
            got = [list(pair) for pair in got]
        if key in ("files", "mentions", "users"):
            got = list(got)
        assert got == value and type(got) is type(value), key
    # Absent optional fields take their documented defaults.
    for f in dataclasses.fields(frame):
        if f.name not in m:
            assert getattr(frame, f.name) == f.default


@pytest.mark.parametrize("vector", _select("c2s", True))
def test_valid_client_frame_reencodes(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    if vector["name"] == "rid-long-form-argument":
        assert encode_client_frame(cbor2.loads(data)) != data  # we write the shortest form
        return
    assert encode_client_frame(cbor2.loads(data)) == data


@pytest.mark.parametrize("vector", _select("c2s", False))
def test_invalid_client_frame(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    with pytest.raises(ProtocolError) as info:
        decode_client_frame(data)
    assert info.value.code == vector["error"], info.value.message
    assert info.value.rid == vector["rid"]
    assert info.value.close_code == vector.get("close")
    assert isinstance(info.value, FrameTooLarge) is (vector.get("close") == 1009)


def _server_frame_from_map(m: dict[str, Any]) -> ServerFrame:
    m = dict(m)
    op = m.pop("op")
    if op == "ok":
        return Ok(m.pop("rid"), m)
    if op == "error":
        return Error(rid=m.pop("rid", None), **m)
    cls: Any = SERVER_FRAME_TYPES[op]
    if op == "msg":
        m.setdefault("body", None)  # a tombstone has none
    frame: ServerFrame = cls(**m)
    return frame


@pytest.mark.parametrize("vector", _select("s2c", True))
def test_valid_server_frame(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    SERVER_SCHEMA.validate_cbor(data)
    assert _accepting_rules("s2c", data), "no single frame rule accepts it"
    m = decode_server_frame(data)
    assert m == cbor2.loads(data)
    assert encode_server_frame(_server_frame_from_map(m)) == data


@pytest.mark.parametrize("vector", _select("s2c", False))
def test_invalid_server_frame(vector: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_server_frame(bytes.fromhex(vector["hex"]))
    assert info.value.code == vector["error"]


def test_schema_directions_do_not_overlap() -> None:
    """No client frame is a server frame and vice versa (else the vectors would prove little)."""
    assert len(LEAF_SCHEMAS["c2s"]) == len(CLIENT_FRAME_TYPES)
    assert len(LEAF_SCHEMAS["s2c"]) >= len(SERVER_FRAME_TYPES)
    for v in VECTORS:
        if v["valid"]:
            other = "s2c" if v["direction"] == "c2s" else "c2s"
            assert _accepting_rules(other, bytes.fromhex(v["hex"])) == [], v["name"]


@pytest.mark.parametrize(
    "frame",
    [
        {"op": "send", "rid": 1, "ch": 12, "cid": b"x" * 15, "body": "hi"},
        {"op": "history", "rid": 1, "ch": 12, "limit": 0},
        {"op": "history", "rid": 1, "ch": 12, "limit": 101},
        {"op": "channels", "rid": 2**53},
        {"op": "channels", "rid": 1, "extra": 1},
        {"op": "presence.set", "rid": 1, "state": "busy"},
        {"op": "hello", "rid": 1},
    ],
    ids=repr,
)
def test_schema_refuses_what_the_codec_refuses(frame: dict[str, Any]) -> None:
    data = encode_client_frame(frame)
    assert _accepting_rules("c2s", data) == []
    with pytest.raises(ProtocolError):
        decode_client_frame(data)


def test_schema_lists_exactly_the_error_codes() -> None:
    start = CDDL.index("error-code =")
    block = CDDL[start : CDDL.index("\n\n", start)]
    listed = {part.strip().strip('"') for part in block.split("=", 1)[1].replace("\n", " ").split("/")}
    assert listed == ERROR_CODES


def test_protocol_md_documents_every_error_code_and_op() -> None:
    text = (PROTOCOL / "PROTOCOL.md").read_text(encoding="utf-8")
    for code in ERROR_CODES:
        assert f"`{code}`" in text, code
    for op in (*CLIENT_FRAME_TYPES, *SERVER_FRAME_TYPES):
        assert f"`{op}`" in text, op
