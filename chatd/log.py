r"""Structured logs: one line per event on stderr, ``key=value`` pairs (logfmt), journald-friendly.

Messages are written as ``event=NAME key=%s …`` with the values as arguments; the formatter
prefixes the level and logger. journald adds its own timestamp, so none is printed unless
``timestamps`` is set (a terminal). At a terminal the per-request lines are opt-in (``access_log``).

Values come from clients (request paths, origins, error messages), so every argument that is not
a number is written as one logfmt token (``logfmt_value``): as is when it holds only characters
that cannot start another field or line, else double-quoted with ``\\``, ``\"``, ``\n``, ``\r``,
``\t`` and ``\xNN``/``\uNNNN`` escapes for every control, format and separator character. A
path ``/x status=200`` then logs as ``path="/x status=200"``, and one line stays one event.
Use ``%s`` for values, never ``%r`` (it would quote them twice).
"""

from __future__ import annotations

import logging
import re
import string
import sys
import time
from collections.abc import Mapping
from typing import Any

#: The per-request log (``event=http.request``, written by chatd/web/app.py).
ACCESS_LOGGER = "chatd.http.access"

_BARE = frozenset(string.ascii_letters + string.digits + "-._:/@+,~^*%[]()#!?&")
# C0 and C1 controls, DEL, the quote and the backslash; invisible format characters (bidi marks
# and overrides, zero widths, BOM), line and paragraph separators, lone surrogates.
_ESCAPED = re.compile(
    r'["\\\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb'
    r"\ud800-\udfff]"
)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def logfmt_value(value: object) -> str:
    """``value`` as one logfmt token: bare if it is made of harmless ASCII, else quoted."""
    text = value if isinstance(value, str) else str(value)
    if text and all(c in _BARE for c in text):
        return text
    return '"' + _ESCAPED.sub(_escape, text) + '"'


def _safe_arg(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value  # numbers (and bools) format as they are, for %d and %.1f
    return logfmt_value(value)


def render_message(record: logging.LogRecord) -> str:
    """The record's message with every argument quoted as a logfmt value (``logfmt_value``), and
    whatever control character is left in the message itself escaped."""
    msg = str(record.msg)
    args = record.args
    if args:
        safe: Any
        if isinstance(args, Mapping):
            safe = {k: _safe_arg(v) for k, v in args.items()}
        else:
            safe = tuple(_safe_arg(a) for a in args)
        try:
            msg = msg % safe
        except (TypeError, ValueError):  # e.g. %d given a string: format as logging would
            msg = record.getMessage()
    return _CONTROLS.sub(_escape, msg)


class _Formatter(logging.Formatter):
    def __init__(self, timestamps: bool) -> None:
        super().__init__()
        self.timestamps = timestamps

    def format(self, record: logging.LogRecord) -> str:
        msg = render_message(record)
        prefix = ""
        if self.timestamps:
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            prefix = f"ts={ts}.{int(record.msecs):03d}Z "
        line = f"{prefix}level={record.levelname.lower()} logger={record.name} {msg}"
        if record.exc_info:
            line += " exc=" + logfmt_value(self.formatException(record.exc_info))
        return line


def setup_logging(level: str = "info", access_log: str = "auto") -> None:
    """Route every logger to stderr in the one-line format (idempotent).

    ``access_log`` (the ``access_log`` setting) decides whether the per-request lines are
    written: ``on``, ``off``, or ``auto``: on unless stderr is an interactive terminal, where one
    line per page, script and image would push the banner and the certificate fingerprint of
    ``chatd serve`` off the screen. The journal and log files keep them.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_chatd", False):
            root.removeHandler(handler)
    terminal = sys.stderr.isatty()
    handler = logging.StreamHandler(sys.stderr)
    handler._chatd = True  # type: ignore[attr-defined]
    handler.setFormatter(_Formatter(timestamps=terminal))
    root.addHandler(handler)
    root.setLevel(level.upper())
    show_requests = access_log == "on" or (access_log == "auto" and not terminal)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if show_requests else logging.WARNING)
    # Hypercorn's own access log duplicates ours; its error log stays.
    logging.getLogger("hypercorn.access").setLevel(logging.WARNING)
