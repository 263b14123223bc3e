"""The web client's error and close codes are the server's.

``client_web/js/net/codes.js`` lists the protocol's codes for the client; ``chatd/wire/errors.py``
is the server's list. When the server adds or renames a code, this test fails until the client's
list follows.

How codes.js is read (kept deliberately simple, and documented at the top of codes.js): each
``export const Name = Object.freeze({ … });`` block is one table, and each line inside it is
``KEY: 'text',`` or ``KEY: 123,`` (a trailing ``// comment`` is allowed). ``ErrorCode``'s keys are
the Python constant names; ``CloseCode``'s are the ``CLOSE_*`` names without the prefix.
"""

from __future__ import annotations

import re
from pathlib import Path

from chatd.wire import errors

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "client_web" / "js"
CODES_JS = JS / "net" / "codes.js"

_BLOCK = re.compile(r"^export const (\w+) = Object\.freeze\(\{\n(.*?)^\}\);", re.M | re.S)
_ENTRY = re.compile(r"^\s*([A-Z][A-Z0-9_]*): (?:'([^'\\]*)'|(\d+)),(?:\s*//.*)?$")


def _tables() -> dict[str, dict[str, str | int]]:
    tables: dict[str, dict[str, str | int]] = {}
    for name, body in _BLOCK.findall(CODES_JS.read_text(encoding="utf-8")):
        table: dict[str, str | int] = {}
        for line in body.splitlines():
            m = _ENTRY.match(line)
            assert m, f"codes.js, {name}: cannot read {line!r}"
            assert m[1] not in table, f"codes.js, {name}: {m[1]} twice"
            table[m[1]] = m[2] if m[2] is not None else int(m[3])
        tables[name] = table
    return tables


def _server_error_codes() -> dict[str, str]:
    found = {
        k: v
        for k, v in vars(errors).items()
        if k.isupper() and isinstance(v, str) and v in errors.ERROR_CODES
    }
    assert set(found.values()) == set(errors.ERROR_CODES), "an error code without its own constant"
    return found


def _server_close_codes() -> dict[str, int]:
    return {
        k.removeprefix("CLOSE_"): v
        for k, v in vars(errors).items()
        if k.startswith("CLOSE_") and isinstance(v, int)
    }


def test_error_codes_are_the_servers() -> None:
    assert _tables()["ErrorCode"] == _server_error_codes()


def test_close_codes_are_the_servers() -> None:
    close = _server_close_codes()
    assert len(close) >= 7
    assert _tables()["CloseCode"] == close


def test_local_codes_never_collide_with_protocol_codes() -> None:
    tables = _tables()
    assert set(tables["LocalError"].values()).isdisjoint(errors.ERROR_CODES)
    assert set(tables["LocalClose"].values()).isdisjoint(_server_close_codes().values())


def _code_without_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(^|\s)//.*$", "", text, flags=re.M)


def test_the_client_uses_the_constants_not_literals() -> None:
    """No module but codes.js spells a protocol error code or a 4xxx close code itself."""
    words = "|".join(sorted(errors.ERROR_CODES))
    numbers = "|".join(str(v) for v in _server_close_codes().values() if v >= 4000)
    literal = re.compile(rf"""['"`]({words})['"`]|\b({numbers})\b""")
    offenders = []
    for path in sorted(JS.rglob("*.js")):
        if path == CODES_JS:
            continue
        for n, line in enumerate(
            _code_without_comments(path.read_text(encoding="utf-8")).splitlines(), 1
        ):
            if literal.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_the_clients_white_space_is_the_protocols() -> None:
    """A blank body is one the server refuses as empty_body: the client must agree exactly
    (client_web/js/lib/text.js), or it silently drops messages the server would take."""
    text = (JS / "lib" / "text.js").read_text(encoding="utf-8")
    m = re.search(r"export const WHITE_SPACE = ((?:'[^']*'\s*\+?\s*)+);", text)
    assert m, "lib/text.js: WHITE_SPACE not found"
    js = "".join(re.findall(r"'([^']*)'", m[1]))
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda u: chr(int(u[1], 16)), js)
    decoded = decoded.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
    from chatd.wire import WHITE_SPACE

    assert decoded == WHITE_SPACE
