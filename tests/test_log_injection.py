"""Log lines cannot be forged (issue 16, item 6): every value a client controls is one logfmt
token, so a line parses back into exactly the fields chatd wrote, with the client's text intact."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from chatd.log import ACCESS_LOGGER, _Formatter, logfmt_value
from tests.helpers.server import RunningServer

FORGED = [
    "/x status=200 user_id=1",  # spaces forging fields
    "/a\r\nlevel=error logger=chatd.auth event=auth.login user_id=1",  # CR LF: a second line
    "/a\nb",
    "/\x1b[31mred\x1b[0m",  # ESC: terminal escape sequences
    "/nul\x00byte",
    "/tab\tpath",
    "/del\x7f",
    '/quote" status=500 x="',
    "/back\\slash\\",
    "/line\u2028separator\u2029",
    "/bidi\u202eoverride\u2066",
    "/\x85next-line",
    "",
]

_TOKEN = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^ "]*)(?: |$)')
_UNESCAPE = re.compile(r'\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[nrt"\\])')


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "xu":
        return chr(int(code[1:], 16))
    return {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}[code]


def parse_logfmt(line: str) -> list[tuple[str, str]]:
    """A strict logfmt reader: the whole line must be ``key=value`` tokens separated by spaces."""
    assert "\n" not in line and "\r" not in line
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line), repr(line)
    fields = []
    pos = 0
    while pos < len(line):
        m = _TOKEN.match(line, pos)
        assert m is not None, f"not logfmt at {pos}: {line!r}"
        key, raw = m.group(1), m.group(2)
        value = _UNESCAPE.sub(_unescape, raw[1:-1]) if raw.startswith('"') else raw
        fields.append((key, value))
        pos = m.end()
    return fields


def format_line(msg: str, *args: object) -> str:
    record = logging.LogRecord("chatd.http.access", logging.INFO, __file__, 1, msg, args, None)
    return _Formatter(timestamps=False).format(record)


@pytest.mark.parametrize("forged", FORGED)
def test_a_forged_value_is_one_field_and_reads_back_intact(forged: str) -> None:
    line = format_line("event=http.request method=%s path=%s status=%d addr=%s", "GET", forged, 404, "127.0.0.1")
    fields = parse_logfmt(line)
    assert [k for k, _ in fields] == ["level", "logger", "event", "method", "path", "status", "addr"]
    assert dict(fields)["path"] == forged
    assert dict(fields)["status"] == "404"


def test_plain_values_stay_bare_and_exceptions_are_one_field() -> None:
    assert logfmt_value("/js/app.js") == "/js/app.js"
    assert logfmt_value("127.0.0.1") == "127.0.0.1"
    assert logfmt_value("a b") == '"a b"'
    try:
        raise ValueError("bad\r\nlevel=error event=forged")
    except ValueError:
        record = logging.LogRecord("chatd.x", logging.ERROR, __file__, 1, "event=crash op=%s", ("send x=1",), None)
        import sys

        record.exc_info = sys.exc_info()
    fields = dict(parse_logfmt(_Formatter(timestamps=False).format(record)))
    assert fields["op"] == "send x=1"
    assert "ValueError: bad\r\nlevel=error event=forged" in fields["exc"]
    assert list(fields) == ["level", "logger", "event", "op", "exc"]


async def test_request_paths_in_the_access_log_cannot_forge_fields(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    formatter = _Formatter(timestamps=False)
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        for forged in FORGED[:8]:
            caplog.clear()
            resp = await server.get(quote(forged, safe="/"))
            assert resp.status == 404
            [record] = [r for r in caplog.records if r.name == ACCESS_LOGGER]
            fields = parse_logfmt(formatter.format(record))
            assert [k for k, _ in fields] == ["level", "logger", "event", "method", "path", "status", "ms", "addr"]
            assert dict(fields)["path"] == forged
            assert dict(fields)["status"] == "404"


def test_no_log_call_formats_a_value_with_repr() -> None:
    """``%r`` would quote a value twice (Python's way, then logfmt's): values take ``%s``."""
    root = Path(__file__).resolve().parents[1] / "chatd"
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"=%r", line)
    ]
    assert offenders == []
