"""Who finds what: search reads only the channels the searcher is a member of at that moment.

The matrix: a member of a public and a private channel; a member of the public one only; a
user who never joined either; former members of each (results gone at once); ``in:`` a channel
one cannot see answering exactly like ``in:`` a channel that does not exist; and spelling
suggestions that never offer a word only seen in a channel one cannot read.
"""

from __future__ import annotations

from typing import Any

from tests.helpers.client import Client, connect, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.search import bodies

PUBLIC = "needle in the public haystack"
PRIVATE = "needle in the private haystack zebracorn"


def _answer(reply: dict[str, Any]) -> dict[str, Any]:
    """A reply without its rid: what two different requests may be compared by."""
    return {k: v for k, v in reply.items() if k != "rid"}


async def _found(c: Client, q: str) -> set[str]:
    return set(bodies(await c.ok("search", q=q)))


async def test_the_access_matrix(daemon: MemoryDaemon) -> None:
    owner, pub_member, stranger, leaver, priv_leaver = [
        await register(daemon, n) for n in ("owner", "pubmember", "stranger", "leaver", "privleaver")
    ]
    async with (connect(daemon, owner) as o, connect(daemon, pub_member) as p, connect(daemon, stranger) as s,
                connect(daemon, leaver) as lv, connect(daemon, priv_leaver) as pl):
        pub = (await o.ok("channel.create", name="yard"))["channel"]["id"]
        priv = (await o.ok("channel.create", name="vault", private=True))["channel"]["id"]
        await o.ok("channel.invite", ch=priv, user="privleaver")
        for c in (p, lv):
            await c.ok("channel.join", ch=pub)
        await o.send_message(pub, PUBLIC)
        await o.send_message(priv, PRIVATE)

        # member of both; of the public one only; of neither
        assert await _found(o, "needle") == {PUBLIC, PRIVATE}
        assert await _found(p, "needle") == {PUBLIC}
        assert await _found(s, "needle") == set()
        assert await _found(s, "in:#yard needle") == set(), "a public channel one has not joined is not searched"
        # former members: gone at once
        assert await _found(lv, "needle") == {PUBLIC}
        await lv.ok("channel.leave", ch=pub)
        assert await _found(lv, "needle") == set()
        assert await _found(pl, "zebracorn") == {PRIVATE}
        await pl.ok("channel.leave", ch=priv)
        assert await _found(pl, "zebracorn") == set()
        assert await _found(pl, "needle") == set()

        # in: a channel one cannot see = in: a channel that does not exist, to the byte
        for c in (p, s, pl):
            hidden = _answer(await c.ok("search", q="in:#vault needle"))
            missing = _answer(await c.ok("search", q="in:#nosuchchannel needle"))
            assert hidden == missing
            assert hidden["results"] == [] and hidden["count"] == 0
        # …and an operator only ever narrows: the owner's in:#vault finds the private message
        assert await _found(o, "in:#vault needle") == {PRIVATE}
        suggested = (await p.ok("search", q="in:#vault needle"))["suggestions"]
        assert [(x["kind"], x["q"]) for x in suggested] == [("all_channels", "needle")]

        # spelling suggestions come only from messages one can read
        assert [x["q"] for x in (await o.ok("search", q="zebracorm"))["suggestions"]] == ["zebracorn"]
        for c in (p, s, pl):
            assert (await c.ok("search", q="zebracorm"))["suggestions"] == []
            assert (await c.ok("search", q="zebracorn"))["count"] == 0
        # substring matches too
        assert await _found(p, "ebraco") == set()
        assert await _found(o, "ebraco") == {PRIVATE}
