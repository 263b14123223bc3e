"""Running one ``chatd`` command under Trio: what the CLI entry point and the admin commands share.

Exit codes of every ``chatd`` command: 0 success, 1 failure at run time (the message says why),
2 usage or configuration error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import trio

from chatd.pgcluster import ClusterError
from chatd.store import MigrationError, StoreError
from chatd.tls import TLSConfigError

# The logger keeps the name it had in chatd/cli.py: log filters match on `logger=chatd.cli`.
log = logging.getLogger("chatd.cli")

EXIT_FAILURE = 1
EXIT_USAGE = 2

KNOWN_ERRORS: tuple[type[Exception], ...] = (ClusterError, MigrationError, StoreError, TLSConfigError)


def run_async(fn: Callable[[], Any], also_known: tuple[type[Exception], ...] = ()) -> int:
    """Run ``fn`` under Trio (blocks) and return its exit code.

    A failure the operator can act on (``KNOWN_ERRORS`` and ``also_known``, also inside an
    exception group) becomes a log line, ``chatd: error: …`` on stderr and exit code 1; anything
    else is a bug and propagates with its traceback.
    """
    known = KNOWN_ERRORS + also_known
    try:
        result: int = trio.run(fn)
        return result
    except known as exc:
        log.error("event=fatal error=%s", str(exc))
        print(f"chatd: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except BaseExceptionGroup as group:
        match, _rest = group.split(known)
        if match is None:
            raise
        first = _first_leaf(match)
        log.error("event=fatal error=%s", str(first))
        print(f"chatd: error: {first}", file=sys.stderr)
        return EXIT_FAILURE


def _first_leaf(group: BaseException) -> BaseException:
    while isinstance(group, BaseExceptionGroup):
        group = group.exceptions[0]
    return group
