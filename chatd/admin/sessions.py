"""``chatd sessions list|revoke``: log-in sessions and API tokens."""

from __future__ import annotations

import argparse
import json
import time

from chatd.admin.common import (
    AddCommon,
    AdminError,
    SubParsers,
    end_sessions,
    find_user,
    group,
    leaf,
    print_table,
    when,
)
from chatd.config import Config
from chatd.store import Database
from chatd.store import sessions as session_store


async def cmd_sessions_list(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    user_id = (await find_user(db, args.user)).id if args.user else None
    rows = await session_store.list_valid_sessions(db, now=time.time(), idle_secs=float(cfg.session_idle_secs), user_id=user_id)
    if args.json:
        print(json.dumps([
            {"id": s.id, "user": s.username, "kind": s.kind, "created_at": int(s.created_at * 1000),
             "last_seen_at": int(s.last_seen_at * 1000), "expires_at": int(s.expires_at * 1000),
             "client_addr": s.client_addr, "user_agent": s.user_agent}
            for s in rows
        ], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no active sessions")
        return 0
    print_table(
        ["ID", "USER", "KIND", "CREATED", "LAST SEEN", "ADDRESS", "USER AGENT"],
        [[str(s.id), s.username, s.kind, when(s.created_at), when(s.last_seen_at), s.client_addr,
          s.user_agent[:40]] for s in rows],
    )
    return 0


async def cmd_sessions_revoke(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    now = time.time()
    if args.user:
        if args.ids:
            raise AdminError("give session ids or --user, not both")
        row = await find_user(db, args.user)
        async with db.transaction("admin.sessions_revoke_user") as tx:
            revoked = await session_store.revoke_user_sessions(tx, user_id=row.id, now=now)
            await end_sessions(tx, revoked)
        print(f"revoked {len(revoked)} session(s) of {row.username!r}")
        return 0
    if not args.ids:
        raise AdminError("give at least one session id (see `chatd sessions list`) or --user NAME")
    missing: list[int] = []
    async with db.transaction("admin.sessions_revoke") as tx:
        for session_id in args.ids:
            if await session_store.revoke_session(tx, session_id=session_id, now=now):
                await end_sessions(tx, [session_id])
            else:
                missing.append(session_id)
    done = [i for i in args.ids if i not in missing]
    if done:
        print("revoked session(s) " + ", ".join(map(str, done)))
    if missing:
        raise AdminError("no active session with id " + ", ".join(map(str, missing)))
    return 0


def add_commands(sub: SubParsers, common: AddCommon) -> None:
    """Register ``chatd sessions …``."""
    sessions = group(
        sub, "sessions", "list and revoke sessions", "List and revoke log-in sessions and API tokens.",
        "  chatd sessions list --user alice\n  chatd sessions revoke 12\n",
    )
    p = leaf(sessions, common, "list", "list active sessions",
             "List active sessions (web log-ins and API tokens), most recently used first.",
             "  chatd sessions list\n  chatd sessions list --user alice --json\n", cmd_sessions_list)
    p.add_argument("--user", help="only this user's sessions")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = leaf(sessions, common, "revoke", "revoke sessions (their WebSockets close at once)",
             "Revoke sessions by id, or every session of one user.",
             "  chatd sessions revoke 12\n  chatd sessions revoke 12 15\n  chatd sessions revoke --user alice\n",
             cmd_sessions_revoke)
    p.add_argument("ids", nargs="*", type=int, metavar="ID", help="session ids (see `chatd sessions list`)")
    p.add_argument("--user", help="revoke every session of this user")
