"""Admin commands of the ``chatd`` CLI that act on the database beside a running daemon.

``chatd user add|list|passwd|disable|enable|promote|demote|token``, ``chatd sessions
list|revoke``, ``chatd invite create|list|revoke``. They work whether or not chatd is running;
when it is, the daemon hears about revoked sessions and disabled users through LISTEN/NOTIFY
(``session_revoked``, ``user_disabled``) and closes the affected WebSockets at once.

Exit codes as for every ``chatd`` command: 0 success, 1 failure (unknown user, invalid name…,
with a message on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chatd.config import Config

EXIT_FAILURE = 1
INVITE_DEFAULT_DAYS = 7
INVITE_MAX_DAYS = 365
GENERATED_PASSWORD_BYTES = 18  # 24 characters, 144 bits


class AdminError(Exception):
    """A command failed for a reason the operator can fix; ``str()`` says what."""


Command = Callable[[argparse.Namespace, Config, Any], Awaitable[int]]


def _runner(command: Command) -> Callable[[argparse.Namespace, Config], int]:
    """Wrap an async command ``(args, cfg, db) -> exit code`` into a CLI handler."""

    def handler(args: argparse.Namespace, cfg: Config) -> int:
        from chatd.cli import run_async
        from chatd.dbctx import open_db_for_cli

        async def run() -> int:
            async with open_db_for_cli(cfg) as db:
                try:
                    return await command(args, cfg, db)
                except AdminError as exc:
                    print(f"chatd: error: {exc}", file=sys.stderr)
                    return EXIT_FAILURE

        try:
            _read_password_if_needed(args)
        except AdminError as exc:
            print(f"chatd: error: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        return run_async(run)

    return handler


# --- passwords from the operator (read before the event loop starts: these calls block) ---


def _add_password_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    g.add_argument("--generate", action="store_true", help="generate a random password and print it once")


def _read_password_if_needed(args: argparse.Namespace) -> None:
    if not hasattr(args, "generate"):
        return
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


# --- shared helpers ---


async def _user(db: Any, username: str) -> Any:
    from chatd.auth.names import username_key
    from chatd.store import users as user_store

    row = await user_store.get_user_by_key(db, username_key(username.strip()))
    if row is None:
        raise AdminError(f"no user named {username!r} (see `chatd user list`)")
    return row


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


async def _end_sessions(db: Any, session_ids: list[int]) -> None:
    """Tell a running daemon to close these sessions' WebSockets (no-op if none runs)."""
    from chatd.auth.events import SESSION_REVOKED
    from chatd.events import notify

    for session_id in session_ids:
        await notify(db, SESSION_REVOKED, session=session_id)


# --- user ---


async def cmd_user_add(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.auth.accounts import AuthError, FieldErrors, register
    from chatd.auth.passwords import Passwords

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


async def cmd_user_list(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.store import users as user_store

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
    _table(
        ["ID", "USERNAME", "DISPLAY NAME", "ROLE", "STATUS", "CREATED"],
        [[str(u.id), u.username, u.display_name, "admin" if u.is_admin else "user",
          "disabled" if u.disabled else "active", _when(u.created_at)] for u in users],
    )
    return 0


async def cmd_user_passwd(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.auth.names import FieldError, check_password
    from chatd.auth.passwords import Passwords
    from chatd.store import sessions as session_store
    from chatd.store import users as user_store

    row = await _user(db, args.username)
    try:
        password = check_password(args.password)
    except FieldError as exc:
        raise AdminError(f"password: {exc.message}") from None
    new_hash = await Passwords().hash(password)
    async with db.transaction("admin.user_passwd") as tx:
        await user_store.set_password_hash(tx, row.id, new_hash)
        revoked = await session_store.revoke_user_sessions(tx, row.id, time.time())
        await _end_sessions(tx, revoked)  # delivered at commit
    print(f"password of {row.username!r} changed; {len(revoked)} session(s) ended")
    if args.password_generated:
        print(f"password (shown once): {args.password}")
    return 0


async def cmd_user_disable(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.auth.events import USER_DISABLED
    from chatd.events import notify
    from chatd.store import sessions as session_store
    from chatd.store import users as user_store

    row = await _user(db, args.username)
    now = time.time()
    async with db.transaction("admin.user_disable") as tx:
        await user_store.set_user_disabled(tx, row.id, True, now)
        revoked = await session_store.revoke_user_sessions(tx, row.id, now)
        await notify(tx, USER_DISABLED, user=row.id)
    print(f"disabled {row.username!r}; {len(revoked)} session(s) ended")
    return 0


async def cmd_user_enable(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.store import users as user_store

    row = await _user(db, args.username)
    await user_store.set_user_disabled(db, row.id, False, time.time())
    print(f"enabled {row.username!r}" + ("" if row.disabled else " (it was not disabled)"))
    return 0


async def _set_admin(args: argparse.Namespace, db: Any, is_admin: bool) -> int:
    from chatd.store import users as user_store

    row = await _user(db, args.username)
    await user_store.set_user_admin(db, row.id, is_admin)
    role = "an admin" if is_admin else "a regular user"
    print(f"{row.username!r} is now {role}" + (" (unchanged)" if row.is_admin == is_admin else ""))
    return 0


async def cmd_user_promote(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    return await _set_admin(args, db, True)


async def cmd_user_demote(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    return await _set_admin(args, db, False)


async def cmd_user_token(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.auth.sessions import API_TOKEN_MAX_DAYS, create_session

    if not 1 <= args.days <= API_TOKEN_MAX_DAYS:
        raise AdminError(f"--days must be from 1 to {API_TOKEN_MAX_DAYS}")
    row = await _user(db, args.username)
    if row.disabled:
        raise AdminError(f"{row.username!r} is disabled: enable it first")
    label = f"api token: {args.name}" if args.name else "api token"
    new = await create_session(
        db, user_id=row.id, now=time.time(), lifetime_secs=args.days * 86400.0, client_addr="cli",
        user_agent=label, kind="api",
    )
    print(f"API token for {row.username!r} (session {new.session_id}, expires {_when(new.expires_at)}).")
    print("It is shown once; chatd keeps only its hash. Revoke it with "
          f"`chatd sessions revoke {new.session_id}`.")
    print(new.token)
    return 0


# --- sessions ---


async def cmd_sessions_list(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.store import sessions as session_store

    user_id = (await _user(db, args.user)).id if args.user else None
    rows = await session_store.list_valid_sessions(db, time.time(), float(cfg.session_idle_secs), user_id)
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
    _table(
        ["ID", "USER", "KIND", "CREATED", "LAST SEEN", "ADDRESS", "USER AGENT"],
        [[str(s.id), s.username, s.kind, _when(s.created_at), _when(s.last_seen_at), s.client_addr,
          s.user_agent[:40]] for s in rows],
    )
    return 0


async def cmd_sessions_revoke(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.store import sessions as session_store

    now = time.time()
    if args.user:
        if args.ids:
            raise AdminError("give session ids or --user, not both")
        row = await _user(db, args.user)
        async with db.transaction("admin.sessions_revoke_user") as tx:
            revoked = await session_store.revoke_user_sessions(tx, row.id, now)
            await _end_sessions(tx, revoked)
        print(f"revoked {len(revoked)} session(s) of {row.username!r}")
        return 0
    if not args.ids:
        raise AdminError("give at least one session id (see `chatd sessions list`) or --user NAME")
    missing: list[int] = []
    async with db.transaction("admin.sessions_revoke") as tx:
        for session_id in args.ids:
            if await session_store.revoke_session(tx, session_id, now):
                await _end_sessions(tx, [session_id])
            else:
                missing.append(session_id)
    done = [i for i in args.ids if i not in missing]
    if done:
        print("revoked session(s) " + ", ".join(map(str, done)))
    if missing:
        raise AdminError("no active session with id " + ", ".join(map(str, missing)))
    return 0


# --- invites ---


async def cmd_invite_create(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.auth import tokens
    from chatd.store import invites as invite_store

    if not 1 <= args.days <= INVITE_MAX_DAYS:
        raise AdminError(f"--days must be from 1 to {INVITE_MAX_DAYS}")
    now = time.time()
    code = tokens.new_invite_code()
    invite_id = await invite_store.create_invite(db, tokens.digest(code), args.note, now, now + args.days * 86400.0)
    print(f"invite {invite_id}, valid once until {_when(now + args.days * 86400.0)} (shown once):")
    print(code)
    if cfg.registration != "invite":
        print(f"note: registration is {cfg.registration!r}; set registration = \"invite\" for codes to be asked",
              file=sys.stderr)
    return 0


async def cmd_invite_list(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.store import invites as invite_store

    now = time.time()
    rows = await invite_store.list_invites(db, now, args.all)

    def status(i: Any) -> str:
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
    _table(
        ["ID", "CREATED", "EXPIRES", "STATUS", "NOTE"],
        [[str(i.id), _when(i.created_at), _when(i.expires_at), status(i), i.note] for i in rows],
    )
    return 0


async def cmd_invite_revoke(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.store import invites as invite_store

    if not await invite_store.revoke_invite(db, args.id, time.time()):
        raise AdminError(f"no unused, unrevoked invite with id {args.id} (see `chatd invite list --all`)")
    print(f"revoked invite {args.id}")
    return 0


# --- the parser ---

_FMT = argparse.RawDescriptionHelpFormatter


def _leaf(sub: Any, common: Callable[[argparse.ArgumentParser], None], name: str, help_text: str,
          description: str, examples: str, command: Command) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=description, epilog="examples:\n" + examples, formatter_class=_FMT
    )
    common(p)
    p.set_defaults(handler=_runner(command))
    return p


def _group(sub: Any, name: str, help_text: str, description: str, examples: str) -> Any:
    from chatd.cli import _Parser

    p = sub.add_parser(
        name, help=help_text, description=description, epilog="examples:\n" + examples, formatter_class=_FMT
    )
    g = p.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND", parser_class=_Parser)
    g.required = True
    return g


def add_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register the admin sub-commands on the ``chatd`` parser."""
    users = _group(
        sub, "user", "manage user accounts", "Create, list and change user accounts.",
        "  chatd user add alice\n  chatd user list\n  chatd user disable mallory\n  chatd user token deploy-bot\n",
    )

    p = _leaf(users, common, "add", "create an account (works when registration is closed)",
              "Create an account and put it in #general. Asks for the password twice on a terminal.",
              "  chatd user add alice\n  chatd user add bob --display-name 'Bob B.' --admin --generate\n"
              "  echo 'a long passphrase' | chatd user add carol --password-stdin\n", cmd_user_add)
    p.add_argument("username", help="2-32 letters, digits, '.', '_' or '-'")
    p.add_argument("--display-name", help="how the user appears in chat (default: the username)")
    p.add_argument("--admin", action="store_true", help="make the account an administrator")
    _add_password_options(p)

    p = _leaf(users, common, "list", "list accounts", "List every account with its role and status.",
              "  chatd user list\n  chatd user list --json\n", cmd_user_list)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = _leaf(users, common, "passwd", "set a user's password (ends their sessions)",
              "Set a new password; every session of the user ends and their WebSockets close.",
              "  chatd user passwd alice\n  chatd user passwd alice --generate\n", cmd_user_passwd)
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
        p = _leaf(users, common, name, help_text, description, f"  chatd user {name} alice\n", command)
        p.add_argument("username")

    p = _leaf(users, common, "token", "create an API token for a bot or script (printed once)",
              "Create an API token: a session of kind 'api' with no idle timeout. Scripts send it as\n"
              "'Authorization: Bearer TOKEN' over HTTPS or as {\"op\":\"hello\",\"token\":TOKEN} on the WebSocket.",
              "  chatd user token alice\n  chatd user token deploy-bot --days 30 --name 'CI notifier'\n",
              cmd_user_token)
    p.add_argument("username")
    p.add_argument("--days", type=int, default=365, help="lifetime in days (default 365, at most 3650)")
    p.add_argument("--name", default="", help="a label shown in session lists")

    sessions = _group(
        sub, "sessions", "list and revoke sessions", "List and revoke log-in sessions and API tokens.",
        "  chatd sessions list --user alice\n  chatd sessions revoke 12\n",
    )
    p = _leaf(sessions, common, "list", "list active sessions",
              "List active sessions (web log-ins and API tokens), most recently used first.",
              "  chatd sessions list\n  chatd sessions list --user alice --json\n", cmd_sessions_list)
    p.add_argument("--user", help="only this user's sessions")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = _leaf(sessions, common, "revoke", "revoke sessions (their WebSockets close at once)",
              "Revoke sessions by id, or every session of one user.",
              "  chatd sessions revoke 12\n  chatd sessions revoke 12 15\n  chatd sessions revoke --user alice\n",
              cmd_sessions_revoke)
    p.add_argument("ids", nargs="*", type=int, metavar="ID", help="session ids (see `chatd sessions list`)")
    p.add_argument("--user", help="revoke every session of this user")

    invites = _group(
        sub, "invite", "manage invite codes", "One-time invite codes for registration = \"invite\".",
        "  chatd invite create --note 'for Dana'\n  chatd invite list\n  chatd invite revoke 3\n",
    )
    p = _leaf(invites, common, "create", "create a one-time invite code (printed once)",
              "Create a one-time invite code. Only its hash is stored: copy it now.",
              "  chatd invite create\n  chatd invite create --days 2 --note 'for Dana'\n", cmd_invite_create)
    p.add_argument("--days", type=int, default=INVITE_DEFAULT_DAYS,
                   help=f"valid for this many days (default {INVITE_DEFAULT_DAYS})")
    p.add_argument("--note", default="", help="a reminder of who it is for")
    p = _leaf(invites, common, "list", "list invites", "List usable invites (all with --all).",
              "  chatd invite list\n  chatd invite list --all\n", cmd_invite_list)
    p.add_argument("--all", action="store_true", help="include used, expired and revoked invites")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = _leaf(invites, common, "revoke", "revoke an unused invite", "Revoke an unused invite so it cannot be used.",
              "  chatd invite revoke 3\n", cmd_invite_revoke)
    p.add_argument("id", type=int, help="the invite id (see `chatd invite list`)")

    p = _leaf(sub, common, "post", "post a message to a channel (appears live)",
              "Post a message as a user; running chatd processes broadcast it at once (NOTIFY).",
              "  chatd post --channel general --as alice 'The server reboots at 22:00.'\n"
              "  echo 'backup done' | chatd post --channel ops --as backup-bot -\n", cmd_post)
    p.add_argument("--channel", required=True, help="channel name (a leading # is fine)")
    p.add_argument("--as", dest="as_user", required=True, metavar="USER", help="the author (a member of the channel)")
    p.add_argument("text", help="the message; '-' reads it from standard input")


async def cmd_post(args: argparse.Namespace, cfg: Config, db: Any) -> int:
    from chatd.post import PostError, post_as

    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        result = await post_as(db, args.channel, args.as_user, text.rstrip("\n"), cfg.max_body_bytes)
    except PostError as exc:
        raise AdminError(str(exc)) from None
    print(f"posted to #{args.channel.removeprefix('#')} as seq {result.seq} (message id {result.message_id})")
    return 0
