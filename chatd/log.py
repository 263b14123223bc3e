"""Structured logs: one line per event on stderr, ``key=value`` pairs, journald-friendly.

Messages are written as ``event=NAME key=value …``; the formatter prefixes the level and logger.
journald adds its own timestamp, so none is printed unless ``timestamps`` is set (a terminal).
At a terminal the per-request lines are opt-in (``access_log``).
"""

from __future__ import annotations

import logging
import sys
import time

#: The per-request log (``event=http.request``, written by chatd/web/app.py).
ACCESS_LOGGER = "chatd.http.access"


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
