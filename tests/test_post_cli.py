"""``chatd post``: a message posted from the command line appears live in connected clients."""

from __future__ import annotations

import trio

from chatd.cli import main
from tests.helpers.client import connect, general_id, register
from tests.helpers.server import RunningServer


def _post(server: RunningServer, *args: str) -> int:
    return main(["post", "--database-url", server.db.dsn, *args])


async def test_cli_post_appears_live_in_order(server: RunningServer) -> None:
    alice, bob = await register(server, "alice"), await register(server, "bob")
    async with connect(server, bob) as b:
        ch = general_id(b)
        async with connect(server, alice) as a:
            await a.send_message(ch, "from the browser")
        code = await trio.to_thread.run_sync(_post, server, "--channel", "#general", "--as", "alice", "from the CLI ✅")
        assert code == 0
        with trio.fail_after(5):
            msgs = await b.wait_msgs(ch, 2)
        assert [(m["seq"], m["body"], m["name"]) for m in msgs] == [
            (1, "from the browser", "alice"),
            (2, "from the CLI ✅", "alice"),
        ]
        ack = await b.send_message(ch, "and back")
        assert ack["seq"] == 3


async def test_cli_post_errors(server: RunningServer, capsys) -> None:  # type: ignore[no-untyped-def]
    await register(server, "alice")
    for args, expected in [
        (["--channel", "nope", "--as", "alice", "x"], "no channel named 'nope'"),
        (["--channel", "general", "--as", "ghost", "x"], "no active user named 'ghost'"),
        (["--channel", "general", "--as", "alice", "   "], "the message is empty"),
        (["--channel", "general", "--as", "alice", "x" * 20000], "over 16384 bytes"),
    ]:
        code = await trio.to_thread.run_sync(lambda a=args: _post(server, *a))
        assert code == 1
        assert expected in capsys.readouterr().err
    assert await server.db.fetchval("t", "SELECT count(*) FROM messages") == 0
