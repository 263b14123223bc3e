"""``chatd user add|list|passwd|disable|enable|promote|demote|token``: user accounts."""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
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
from chatd.auth.accounts import AuthError, FieldErrors, register
from chatd.auth.events import USER_DISABLED
from chatd.auth.names import FieldError, check_password
from chatd.auth.passwords import Passwords
from chatd.auth.sessions import API_TOKEN_MAX_DAYS, create_session
from chatd.config import Config
from chatd.events import notify
from chatd.store import Database
from chatd.store import sessions as session_store
from chatd.store import users as user_store

GENERATED_PASSWORD_BYTES = 18  # 24 characters, 144 bits


# --- passwords from the operator (read before the event loop starts: these calls block) ---


def _add_password_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    g.add_argument("--generate", action="store_true", help="generate a random password and print it once")


def _read_password(args: argparse.Namespace) -> None:
    """Set ``args.password`` (and ``args.password_generated``) from the options; blocks on a terminal."""
    if args.generate:
        args.password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
        args.password_generated = True
        return
    args.password_generated = False
    if args.password_stdin:
        line = sys.stdin.readline()
        args.password = line[:-1] if line.endswith("\n") else line
        return
    if not sys.stdin.isatty():
        raise AdminError("no terminal to ask for the password: use --password-stdin or --generate")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise AdminError("the two passwords differ; nothing changed")
    args.password = first


# --- the commands ---


async def cmd_user_add(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    try:
        account = await register(
            db, Passwords(), username=args.username, display_name=args.display_name or args.username.strip(),
            password=args.password, mode="admin", now=time.time(), is_admin=args.admin,
        )
    except FieldErrors as exc:
        raise AdminError("; ".join(f"{e.field.replace('_', ' ')}: {e.message}" for e in exc.errors)) from None
    except AuthError as exc:
        raise AdminError(exc.message) from None
    role = "admin" if account.is_admin else "user"
    print(f"created {role} {account.username!r} (id {account.id}), member of #general")
    if args.password_generated:
        print(f"password (shown once): {args.password}")
    return 0


async def cmd_user_list(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    users = await user_store.list_users(db)
    if args.json:
        print(json.dumps([
            {"id": u.id, "username": u.username, "display_name": u.display_name, "is_admin": u.is_admin,
             "disabled": u.disabled, "created_at": int(u.created_at * 1000)}
            for u in users
        ], ensure_ascii=False, indent=2))
        return 0
    if not users:
        print("no users yet (create one with `chatd user add NAME`)")
        return 0
    print_table(
        ["ID", "USERNAME", "DISPLAY NAME", "ROLE", "STATUS", "CREATED"],
        [[str(u.id), u.username, u.display_name, "admin" if u.is_admin else "user",
          "disabled" if u.disabled else "active", when(u.created_at)] for u in users],
    )
    return 0


async def cmd_user_passwd(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    row = await find_user(db, args.username)
    try:
        password = check_password(args.password)
    except FieldError as exc:
        raise AdminError(f"password: {exc.message}") from None
    new_hash = await Passwords().hash(password)
    async with db.transaction("admin.user_passwd") as tx:
        await user_store.set_password_hash(tx, user_id=row.id, password_hash=new_hash)
        revoked = await session_store.revoke_user_sessions(tx, user_id=row.id, now=time.time())
        await end_sessions(tx, revoked)  # delivered at commit
    print(f"password of {row.username!r} changed; {len(revoked)} session(s) ended")
    if args.password_generated:
        print(f"password (shown once): {args.password}")
    return 0


async def cmd_user_disable(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    row = await find_user(db, args.username)
    now = time.time()
    async with db.transaction("admin.user_disable") as tx:
        await user_store.set_user_disabled(tx, user_id=row.id, disabled=True, now=now)
        revoked = await session_store.revoke_user_sessions(tx, user_id=row.id, now=now)
        await notify(tx, USER_DISABLED, user=row.id)
    print(f"disabled {row.username!r}; {len(revoked)} session(s) ended")
    return 0


async def cmd_user_enable(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    row = await find_user(db, args.username)
    await user_store.set_user_disabled(db, user_id=row.id, disabled=False, now=time.time())
    print(f"enabled {row.username!r}" + ("" if row.disabled else " (it was not disabled)"))
    return 0


async def _set_admin(args: argparse.Namespace, db: Database, is_admin: bool) -> int:
    row = await find_user(db, args.username)
    await user_store.set_user_admin(db, user_id=row.id, is_admin=is_admin)
    role = "an admin" if is_admin else "a regular user"
    print(f"{row.username!r} is now {role}" + (" (unchanged)" if row.is_admin == is_admin else ""))
    return 0


async def cmd_user_promote(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    return await _set_admin(args, db, True)


async def cmd_user_demote(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    return await _set_admin(args, db, False)


async def cmd_user_token(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    if not 1 <= args.days <= API_TOKEN_MAX_DAYS:
        raise AdminError(f"--days must be from 1 to {API_TOKEN_MAX_DAYS}")
    row = await find_user(db, args.username)
    if row.disabled:
        raise AdminError(f"{row.username!r} is disabled: enable it first")
    label = f"api token: {args.name}" if args.name else "api token"
    new = await create_session(
        db, user_id=row.id, now=time.time(), lifetime_secs=args.days * 86400.0, client_addr="cli",
        user_agent=label, kind="api",
    )
    print(f"API token for {row.username!r} (session {new.session_id}, expires {when(new.expires_at)}).")
    print("It is shown once; chatd keeps only its hash. Revoke it with "
          f"`chatd sessions revoke {new.session_id}`.")
    print(new.token)
    return 0


# --- the parser ---


def add_commands(sub: SubParsers, common: AddCommon) -> None:
    """Register ``chatd user …``."""
    users = group(
        sub, "user", "manage user accounts", "Create, list and change user accounts.",
        "  chatd user add alice\n  chatd user list\n  chatd user disable mallory\n  chatd user token deploy-bot\n",
    )

    p = leaf(users, common, "add", "create an account (works when registration is closed)",
             "Create an account and put it in #general. Asks for the password twice on a terminal.",
             "  chatd user add alice\n  chatd user add bob --display-name 'Bob B.' --admin --generate\n"
             "  echo 'a long passphrase' | chatd user add carol --password-stdin\n", cmd_user_add, _read_password)
    p.add_argument("username", help="2-32 letters, digits, '.', '_' or '-'")
    p.add_argument("--display-name", help="how the user appears in chat (default: the username)")
    p.add_argument("--admin", action="store_true", help="make the account an administrator")
    _add_password_options(p)

    p = leaf(users, common, "list", "list accounts", "List every account with its role and status.",
             "  chatd user list\n  chatd user list --json\n", cmd_user_list)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = leaf(users, common, "passwd", "set a user's password (ends their sessions)",
             "Set a new password; every session of the user ends and their WebSockets close.",
             "  chatd user passwd alice\n  chatd user passwd alice --generate\n", cmd_user_passwd, _read_password)
    p.add_argument("username")
    _add_password_options(p)

    for name, help_text, description, command in (
        ("disable", "disable an account and end its sessions at once",
         "Disable an account: it cannot log in, every session ends, live WebSockets close now.",
         cmd_user_disable),
        ("enable", "re-enable a disabled account", "Re-enable a disabled account (it logs in again).",
         cmd_user_enable),
        ("promote", "make a user an administrator", "Make a user an administrator.", cmd_user_promote),
        ("demote", "make an administrator a regular user", "Remove administrator rights.", cmd_user_demote),
    ):
        p = leaf(users, common, name, help_text, description, f"  chatd user {name} alice\n", command)
        p.add_argument("username")

    p = leaf(users, common, "token", "create an API token for a bot or script (printed once)",
             "Create an API token: a session of kind 'api' with no idle timeout. Scripts send it as\n"
             "'Authorization: Bearer TOKEN' over HTTPS or as {\"op\":\"hello\",\"token\":TOKEN} on the WebSocket.",
             "  chatd user token alice\n  chatd user token deploy-bot --days 30 --name 'CI notifier'\n",
             cmd_user_token)
    p.add_argument("username")
    p.add_argument("--days", type=int, default=365, help="lifetime in days (default 365, at most 3650)")
    p.add_argument("--name", default="", help="a label shown in session lists")
