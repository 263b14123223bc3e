"""Text in client frames, end to end (PROTOCOL.md §3.2): which bodies count as empty, and U+0000.

A body of U+001C–U+001F (not Unicode White_Space, although Python's str.isspace says so) is a
message like any other. U+0000 cannot be stored by PostgreSQL: it is refused by the codec with a
non-retryable ``bad_frame`` naming the field, instead of failing in the database as
``unavailable`` with ``retry: true`` (which a client following the spec retries forever).
"""

from __future__ import annotations

import io
import sys

import pytest
import trio

from chatd.cli import main
from tests.helpers.client import connect, general_id, register
from tests.helpers.server import RunningServer

SEPARATORS = "\x1c\x1d\x1e\x1f"  # FS, GS, RS, US


async def test_body_of_information_separators_is_a_message(server: RunningServer) -> None:
    alice, bob = await register(server, "alice"), await register(server, "bob")
    async with connect(server, alice) as a, connect(server, bob) as b:
        ch = general_id(a)
        ack = await a.send_message(ch, SEPARATORS)
        assert ack["op"] == "ack" and ack["seq"] == 1, ack
        [msg] = await b.wait_msgs(ch, 1)
        assert msg["body"] == SEPARATORS
        page = await b.ok("history", ch=ch)
        assert [m["body"] for m in page["messages"]] == [SEPARATORS]


@pytest.mark.parametrize(
    ("op", "fields", "field"),
    [
        ("send", {"cid": b"\x01" * 16, "body": "hi\x00there"}, "send.body"),
        ("channel.create", {"name": "ops\x00"}, "channel.create.name"),
        ("channel.create", {"name": "ops", "description": "\x00"}, "channel.create.description"),
        ("browse", {"q": "gen\x00"}, "browse.q"),
        ("channel.invite", {"user": "bob\x00"}, "channel.invite.user"),
    ],
)
async def test_nul_in_text_is_bad_frame_not_retryable(
    server: RunningServer, op: str, fields: dict[str, object], field: str
) -> None:
    alice = await register(server, "alice")
    async with connect(server, alice) as a:
        ch = general_id(a)
        if "ch" not in fields and op in ("send", "channel.invite"):
            fields = {"ch": ch, **fields}
        err = await a.request(op, **fields)
        assert err["op"] == "error", err
        assert err["code"] == "bad_frame"
        assert err["message"] == f"{field} contains U+0000, which is not allowed in text"
        assert "retry" not in err
        assert (await a.send_message(ch, "still here"))["seq"] == 1  # the connection carries on
    assert await server.db.fetchval("t.channels", "SELECT count(*) FROM channels") == 1  # #general only


def _post(server: RunningServer, *args: str) -> int:
    return main(["post", "--database-url", server.db.dsn, "--channel", "general", "--as", "alice", *args])


@pytest.mark.usefixtures("restore_logging")
async def test_cli_post_follows_the_same_text_rules(
    server: RunningServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(server, "alice")
    code = await trio.to_thread.run_sync(_post, server, SEPARATORS)
    assert code == 0, capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("hi\x00there\n"))
    assert await trio.to_thread.run_sync(_post, server, "-") == 1
    err = capsys.readouterr().err
    assert "chatd: error: the message contains U+0000, which is not allowed in text" in err
    bodies = await server.db.fetch("t.bodies", "SELECT body FROM messages ORDER BY seq")
    assert [r["body"] for r in bodies] == [SEPARATORS]
