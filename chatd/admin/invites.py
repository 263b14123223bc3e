"""``chatd invite create|list|revoke``: one-time invite codes for ``registration = "invite"``."""

from __future__ import annotations

import argparse
import json
import sys
import time

from chatd.admin.common import AddCommon, AdminError, SubParsers, group, leaf, print_table, when
from chatd.auth import tokens
from chatd.config import Config
from chatd.store import Database
from chatd.store import invites as invite_store
from chatd.store.invites import InviteRow

INVITE_DEFAULT_DAYS = 7
INVITE_MAX_DAYS = 365


async def cmd_invite_create(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    if not 1 <= args.days <= INVITE_MAX_DAYS:
        raise AdminError(f"--days must be from 1 to {INVITE_MAX_DAYS}")
    now = time.time()
    code = tokens.new_invite_code()
    invite_id = await invite_store.create_invite(db, tokens.digest(code), args.note, now, now + args.days * 86400.0)
    print(f"invite {invite_id}, valid once until {when(now + args.days * 86400.0)} (shown once):")
    print(code)
    if cfg.registration != "invite":
        print(f"note: registration is {cfg.registration!r}; set registration = \"invite\" for codes to be asked",
              file=sys.stderr)
    return 0


async def cmd_invite_list(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    now = time.time()
    rows = await invite_store.list_invites(db, now, args.all)

    def status(i: InviteRow) -> str:
        if i.used_at is not None:
            return f"used by {i.used_by or '(deleted user)'}"
        if i.revoked_at is not None:
            return "revoked"
        return "expired" if i.expires_at <= now else "usable"

    if args.json:
        print(json.dumps([
            {"id": i.id, "note": i.note, "created_at": int(i.created_at * 1000),
             "expires_at": int(i.expires_at * 1000), "status": status(i)}
            for i in rows
        ], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no usable invites" if not args.all else "no invites")
        return 0
    print_table(
        ["ID", "CREATED", "EXPIRES", "STATUS", "NOTE"],
        [[str(i.id), when(i.created_at), when(i.expires_at), status(i), i.note] for i in rows],
    )
    return 0


async def cmd_invite_revoke(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    if not await invite_store.revoke_invite(db, invite_id=args.id, now=time.time()):
        raise AdminError(f"no unused, unrevoked invite with id {args.id} (see `chatd invite list --all`)")
    print(f"revoked invite {args.id}")
    return 0


def add_commands(sub: SubParsers, common: AddCommon) -> None:
    """Register ``chatd invite …``."""
    invites = group(
        sub, "invite", "manage invite codes", "One-time invite codes for registration = \"invite\".",
        "  chatd invite create --note 'for Dana'\n  chatd invite list\n  chatd invite revoke 3\n",
    )
    p = leaf(invites, common, "create", "create a one-time invite code (printed once)",
             "Create a one-time invite code. Only its hash is stored: copy it now.",
             "  chatd invite create\n  chatd invite create --days 2 --note 'for Dana'\n", cmd_invite_create)
    p.add_argument("--days", type=int, default=INVITE_DEFAULT_DAYS,
                   help=f"valid for this many days (default {INVITE_DEFAULT_DAYS})")
    p.add_argument("--note", default="", help="a reminder of who it is for")
    p = leaf(invites, common, "list", "list invites", "List usable invites (all with --all).",
             "  chatd invite list\n  chatd invite list --all\n", cmd_invite_list)
    p.add_argument("--all", action="store_true", help="include used, expired and revoked invites")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = leaf(invites, common, "revoke", "revoke an unused invite", "Revoke an unused invite so it cannot be used.",
             "  chatd invite revoke 3\n", cmd_invite_revoke)
    p.add_argument("id", type=int, help="the invite id (see `chatd invite list`)")
