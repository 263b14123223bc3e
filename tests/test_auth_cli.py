"""The admin CLI (``chatd user|sessions|invite``) against the test database, beside a live server."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest
import trio

from chatd import cli
from chatd.auth import accounts, tokens
from chatd.auth.passwords import Passwords
from chatd.auth.throttle import LoginThrottle
from chatd.store import Database
from chatd.store import sessions as session_store
from tests.helpers.server import RunningServer
from tests.test_auth_support import (
    FAST_PARAMETERS,
    PASSWORD,
    Client,
    FakeConnection,
    fast_passwords,
    make_session,
    make_user,
)

__all__ = ["fast_passwords"]
pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``cli.main`` installs a stderr handler on the root logger; take it away afterwards."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if getattr(handler, "_chatd", False):
            root.removeHandler(handler)
    root.setLevel(level)


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"Run(code={self.code}, out={self.out!r}, err={self.err!r})"


RunCli = Callable[..., Awaitable[Run]]


@pytest.fixture
def chatd(db_dsn: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """``await chatd("user", "add", "alice", stdin="pw\\n")``: run the CLI in a worker thread."""

    async def run(*args: str, stdin: str | None = None) -> Run:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        argv = [*args, "--database-url", db_dsn, "--log-level", "warning"]
        capsys.readouterr()
        try:
            code = await trio.to_thread.run_sync(cli.main, argv)
        except SystemExit as exc:  # argparse: --help and usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


async def can_log_in(db: Database, username: str, password: str) -> bool:
    try:
        await accounts.login(db, Passwords(FAST_PARAMETERS), LoginThrottle(), username=username, password=password,
                             client_addr="t", now=time.time())
    except accounts.AuthError:
        return False
    return True


# --- help and usage ---

COMMANDS = [
    ["user"], ["user", "add"], ["user", "list"], ["user", "passwd"], ["user", "disable"], ["user", "enable"],
    ["user", "promote"], ["user", "demote"], ["user", "token"],
    ["sessions"], ["sessions", "list"], ["sessions", "revoke"],
    ["invite"], ["invite", "create"], ["invite", "list"], ["invite", "revoke"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_examples(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"chatd {' '.join(command)}" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["user"], ["user", "add"], ["user", "frobnicate"], ["invite", "revoke", "abc"]):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2, argv
        assert "--help" in capsys.readouterr().err


# --- user ---


async def test_user_add_and_list(chatd: RunCli, db: Database) -> None:
    r = await chatd("user", "add", "alice", "--display-name", "Alice 🐇", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.code == 0, r
    assert "created user 'alice'" in r.out and "#general" in r.out
    assert await can_log_in(db, "alice", PASSWORD)
    members = await db.fetchval(
        "t.members", "SELECT count(*) FROM channel_members m JOIN users u ON u.id = m.user_id WHERE u.username = 'alice'"
    )
    assert members == 1

    r = await chatd("user", "add", "root", "--admin", "--generate")
    assert r.code == 0, r
    generated = r.out.split("password (shown once): ")[1].strip()
    assert len(generated) >= 20
    assert await can_log_in(db, "root", generated)

    r = await chatd("user", "list")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "USERNAME", "DISPLAY", "NAME", "ROLE", "STATUS", "CREATED"]
    assert any("alice" in line and "Alice 🐇" in line and "user" in line for line in lines)
    assert any("root" in line and "admin" in line for line in lines)

    r = await chatd("user", "list", "--json")
    users = {u["username"]: u for u in json.loads(r.out)}
    assert users["root"]["is_admin"] is True and users["alice"]["display_name"] == "Alice 🐇"


async def test_user_add_errors(chatd: RunCli, db: Database) -> None:
    r = await chatd("user", "add", "a b", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.code == 1
    assert "chatd: error: username:" in r.err
    r = await chatd("user", "add", "alice", "--password-stdin", stdin="short\n")
    assert r.code == 1 and "password: A password needs at least 8" in r.err
    assert (await chatd("user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")).code == 0
    r = await chatd("user", "add", "ALICE", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.code == 1 and "taken" in r.err
    # No terminal and no password option: refuse instead of hanging.
    r = await chatd("user", "add", "bob", stdin="")
    assert r.code == 1 and "--password-stdin" in r.err
    assert await db.fetchval("t.count", "SELECT count(*) FROM users") == 1


@pytest.mark.parametrize("command", ["passwd", "disable", "enable", "promote", "demote", "token"])
async def test_unknown_user_fails(chatd: RunCli, command: str) -> None:
    r = await chatd("user", command, "ghost", *(["--generate"] if command == "passwd" else []))
    assert r.code == 1
    assert "no user named 'ghost'" in r.err


async def test_promote_and_demote(chatd: RunCli, db: Database) -> None:
    await make_user(db, "alice")

    async def is_admin() -> bool:
        return bool(await db.fetchval("t.admin", "SELECT is_admin FROM users"))

    assert (await chatd("user", "promote", "Alice")).code == 0
    assert await is_admin()
    r = await chatd("user", "promote", "alice")
    assert "unchanged" in r.out
    assert (await chatd("user", "demote", "alice")).code == 0
    assert not await is_admin()


async def test_disable_ends_sessions_and_live_sockets_of_a_running_daemon(
    chatd: RunCli, server: RunningServer, db: Database
) -> None:
    c = Client(server)
    await c.register("alice")
    me = (await c.get("/api/me")).json
    conn = FakeConnection(me["session"]["id"], me["user"]["id"])
    server.state.connections.add(conn)

    r = await chatd("user", "disable", "alice")
    assert r.code == 0, r
    assert "1 session(s) ended" in r.out
    with trio.fail_after(5):
        await conn.ended.wait()  # the daemon heard the NOTIFY
    assert conn.code == 4001 and conn.pushed_session_expired
    assert (await c.get("/api/me")).status == 401
    assert (await Client(server).login("alice")).json["error"] == "account_disabled"

    r = await chatd("user", "enable", "alice")
    assert r.code == 0
    assert (await Client(server).login("alice")).status == 200


async def test_passwd_ends_sessions_and_sockets(chatd: RunCli, server: RunningServer, db: Database) -> None:
    c = Client(server)
    await c.register("alice")
    me = (await c.get("/api/me")).json
    conn = FakeConnection(me["session"]["id"], me["user"]["id"])
    server.state.connections.add(conn)
    r = await chatd("user", "passwd", "alice", "--password-stdin", stdin="a whole new passphrase\n")
    assert r.code == 0, r
    with trio.fail_after(5):
        await conn.ended.wait()
    assert (await c.get("/api/me")).status == 401
    assert not await can_log_in(db, "alice", PASSWORD)
    assert await can_log_in(db, "alice", "a whole new passphrase")
    r = await chatd("user", "passwd", "alice", "--password-stdin", stdin="short\n")
    assert r.code == 1 and "password:" in r.err


async def test_api_token(chatd: RunCli, server: RunningServer, db: Database) -> None:
    await make_user(db, "deploy-bot")
    r = await chatd("user", "token", "deploy-bot", "--days", "30", "--name", "CI")
    assert r.code == 0, r
    token = r.out.strip().splitlines()[-1]
    assert tokens.plausible_token(token) and len(token) == 43
    assert token not in str(await db.fetch("t.s", "SELECT * FROM sessions"))
    resp = await server.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert (resp.status, resp.json["user"]["username"]) == (200, "deploy-bot")

    r = await chatd("sessions", "list", "--json")
    [listed] = json.loads(r.out)
    assert (listed["user"], listed["kind"], listed["user_agent"]) == ("deploy-bot", "api", "api token: CI")
    assert (await chatd("user", "token", "deploy-bot", "--days", "0")).code == 1


async def test_sessions_list_and_revoke(chatd: RunCli, server: RunningServer, db: Database) -> None:
    alice = await make_user(db, "alice")
    bob = await make_user(db, "bob")
    now = server.state.clock.now()
    a1 = await make_session(db, server.config, alice.id, now)
    a2 = await make_session(db, server.config, alice.id, now)
    b1 = await make_session(db, server.config, bob.id, now)
    conn = FakeConnection(a1.session_id, alice.id)
    server.state.connections.add(conn)

    r = await chatd("sessions", "list")
    assert r.code == 0
    assert len(r.out.splitlines()) == 4  # header + 3
    r = await chatd("sessions", "list", "--user", "bob", "--json")
    assert [s["id"] for s in json.loads(r.out)] == [b1.session_id]

    r = await chatd("sessions", "revoke", str(a1.session_id))
    assert r.code == 0, r
    with trio.fail_after(5):
        await conn.ended.wait()
    assert (await server.get("/api/me", headers={"Authorization": f"Bearer {a1.token}"})).status == 401
    r = await chatd("sessions", "revoke", str(a1.session_id), "424242")
    assert r.code == 1 and "424242" in r.err

    r = await chatd("sessions", "revoke", "--user", "alice")
    assert r.code == 0 and "revoked 1 session(s)" in r.out
    valid = await session_store.list_valid_sessions(db, now=now, idle_secs=server.config.session_idle_secs)
    assert [s.id for s in valid] == [b1.session_id]
    assert (await chatd("sessions", "revoke")).code == 1
    assert a2.token  # (revoked by --user above)


async def test_invites(chatd: RunCli, db: Database) -> None:
    r = await chatd("invite", "create", "--days", "2", "--note", "for Dana")
    assert r.code == 0, r
    code = r.out.strip().splitlines()[-1]
    assert len(code) == 20
    assert code not in str(await db.fetch("t.i", "SELECT * FROM invites"))
    r = await chatd("invite", "list")
    assert "for Dana" in r.out and "usable" in r.out

    account = await accounts.register(
        db, Passwords(FAST_PARAMETERS), username="dana", display_name="Dana", password=PASSWORD, invite=code,
        mode="invite", now=time.time(),
    )
    assert account.username == "dana"
    r = await chatd("invite", "list")
    assert "no usable invites" in r.out
    r = await chatd("invite", "list", "--all", "--json")
    [listed] = json.loads(r.out)
    assert listed["status"] == "used by dana"

    r = await chatd("invite", "create")
    second = r.out.strip().splitlines()[-1]
    invite_id = json.loads((await chatd("invite", "list", "--json")).out)[0]["id"]
    assert (await chatd("invite", "revoke", str(invite_id))).code == 0
    with pytest.raises(accounts.AuthError) as info:
        await accounts.register(
            db, Passwords(FAST_PARAMETERS), username="eve", display_name="Eve", password=PASSWORD, invite=second,
            mode="invite", now=time.time(),
        )
    assert info.value.code == "invite_invalid"
    r = await chatd("invite", "revoke", str(invite_id))
    assert r.code == 1 and "no unused" in r.err
    assert (await chatd("invite", "create", "--days", "0")).code == 1
