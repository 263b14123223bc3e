"""Structured logs: one line per event on stderr, ``key=value`` pairs, journald-friendly.

Messages are written as ``event=NAME key=value …``; the formatter prefixes the level and logger.
journald adds its own timestamp, so none is printed unless ``timestamps`` is set (a terminal).
"""

from __future__ import annotations

import logging
import sys
import time


class _Formatter(logging.Formatter):
    def __init__(self, timestamps: bool) -> None:
        super().__init__()
        self.timestamps = timestamps

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage().replace("\n", "\\n")
        prefix = ""
        if self.timestamps:
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            prefix = f"ts={ts}.{int(record.msecs):03d}Z "
        line = f"{prefix}level={record.levelname.lower()} logger={record.name} {msg}"
        if record.exc_info:
            line += " exc=" + self.formatException(record.exc_info).replace("\n", "\\n")
        return line


def setup_logging(level: str = "info") -> None:
    """Route every logger to stderr in the one-line format (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_chatd", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._chatd = True  # type: ignore[attr-defined]
    handler.setFormatter(_Formatter(timestamps=sys.stderr.isatty()))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Hypercorn's own access log duplicates ours; its error log stays.
    logging.getLogger("hypercorn.access").setLevel(logging.WARNING)
