"""What the admin commands share: turning an async command into a CLI handler, the operator's
errors, looking a user up, and printing times and tables."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chatd.auth.events import SESSION_REVOKED
from chatd.auth.names import username_key
from chatd.config import Config
from chatd.dbctx import open_db_for_cli
from chatd.events import notify
from chatd.runner import EXIT_FAILURE, run_async
from chatd.store import Conn, Database
from chatd.store import users as user_store
from chatd.store.users import UserRow

Command = Callable[[argparse.Namespace, Config, Database], Awaitable[int]]
Prepare = Callable[[argparse.Namespace], None]
AddCommon = Callable[[argparse.ArgumentParser], None]
SubParsers = Any  # argparse's _SubParsersAction, which argparse does not export

_FMT = argparse.RawDescriptionHelpFormatter


class AdminError(Exception):
    """A command failed for a reason the operator can fix; ``str()`` says what."""


def _handler(command: Command, prepare: Prepare | None) -> Callable[[argparse.Namespace, Config], int]:
    """Wrap an async command ``(args, cfg, db) -> exit code`` into a CLI handler.

    ``prepare`` runs first, before the event loop starts (it may block, e.g. to read a password).
    """

    def handler(args: argparse.Namespace, cfg: Config) -> int:
        async def run() -> int:
            async with open_db_for_cli(cfg) as db:
                try:
                    return await command(args, cfg, db)
                except AdminError as exc:
                    print(f"chatd: error: {exc}", file=sys.stderr)
                    return EXIT_FAILURE

        if prepare is not None:
            try:
                prepare(args)
            except AdminError as exc:
                print(f"chatd: error: {exc}", file=sys.stderr)
                return EXIT_FAILURE
        return run_async(run)

    return handler


def leaf(sub: SubParsers, common: AddCommon, name: str, help_text: str, description: str, examples: str,
         command: Command, prepare: Prepare | None = None) -> argparse.ArgumentParser:
    """Add the sub-command ``name`` that runs ``command`` on the database."""
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=description, epilog="examples:\n" + examples, formatter_class=_FMT
    )
    common(p)
    p.set_defaults(handler=_handler(command, prepare))
    return p


def group(sub: SubParsers, name: str, help_text: str, description: str, examples: str) -> SubParsers:
    """Add the command group ``name``; returns where its sub-commands go (one is required)."""
    p = sub.add_parser(
        name, help=help_text, description=description, epilog="examples:\n" + examples, formatter_class=_FMT
    )
    # The group's sub-parsers are of the same class as ``p`` (the CLI's, with exit code 2).
    g = p.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")
    g.required = True
    return g


async def find_user(db: Conn, username: str) -> UserRow:
    """The account named ``username`` (any case, surrounding spaces ignored); AdminError if none."""
    row = await user_store.get_user_by_key(db, username_key(username.strip()))
    if row is None:
        raise AdminError(f"no user named {username!r} (see `chatd user list`)")
    return row


async def end_sessions(db: Conn, session_ids: list[int]) -> None:
    """Tell a running daemon to close these sessions' WebSockets (no-op if none runs)."""
    for session_id in session_ids:
        await notify(db, SESSION_REVOKED, session=session_id)


def when(epoch: float | None) -> str:
    """A local time to the minute for tables, ``-`` for none."""
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Print left-aligned columns as wide as their widest cell."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
