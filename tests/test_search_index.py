"""Keeping the search index whole: messages stored before migration 0003 are indexed after it, in
batches, by the daemon's backfill task; ``chatd search reindex`` repairs the index while
messages keep arriving."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
import trio
from PIL import Image

from chatd.cli import main
from chatd.services import backfill_search
from chatd.store import Database, apply_migrations
from chatd.store import search as search_store
from chatd.store.files import release_message_files
from chatd.store.migrate import default_sql_dir
from tests.helpers.client import connect, general_id, register
from tests.helpers.files import upload
from tests.helpers.memory import MemoryDaemon
from tests.helpers.search import bodies, post_many
from tests.helpers.server import RunningServer


async def _indexed(db: Database) -> int:
    n: int = await db.fetchval("t.indexed", "SELECT count(*) FROM message_search")
    return n


async def test_migration_indexes_the_messages_that_existed_before_it(empty_db: Database, tmp_path: Path) -> None:
    before = tmp_path / "sql"
    before.mkdir()
    for f in sorted(default_sql_dir().glob("000[12]_*.sql")):
        shutil.copy(f, before / f.name)
    await apply_migrations(empty_db, before)
    user = await empty_db.fetchval(
        "t.user", "INSERT INTO users (username, username_key, display_name, password_hash) "
        "VALUES ('old', 'old', 'Old', 'x') RETURNING id")
    ch = await empty_db.fetchval("t.ch", "INSERT INTO channels (name, name_key) VALUES ('archive', 'archive') RETURNING id")
    await empty_db.execute("t.member", "INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2)", ch, user)
    await post_many(empty_db, ch, user, [f"legacy note {i} about gardening" for i in range(4500)])

    await apply_migrations(empty_db)  # 0003: new messages are indexed from now on, old ones not yet
    assert await _indexed(empty_db) == 0
    await backfill_search(empty_db)  # the daemon's task: in batches, until none is left

    assert await _indexed(empty_db) == 4500
    assert await empty_db.fetchval("t.below", "SELECT below FROM search_backfill") == 1
    page = await search_store.search_page(
        empty_db, user_id=user, terms=search_store.Terms(["gardening"], [0], [1]), scope=search_store.Scope(),
        newest=True, position=None, limit=5)
    assert page.count == 1000 and page.capped
    assert await empty_db.fetchval("t.word", "SELECT count(*) FROM search_words WHERE word = 'gardening'") == 1


async def test_backfill_goes_newest_first_in_batches_and_resumes(db: Database) -> None:
    user = await db.fetchval("t.user", "SELECT id FROM users LIMIT 1") or await db.fetchval(
        "t.user", "INSERT INTO users (username, username_key, display_name, password_hash) "
        "VALUES ('u', 'u', 'U', 'x') RETURNING id")
    ch = await db.fetchval("t.ch", "SELECT id FROM channels WHERE name = 'general'")
    await post_many(db, ch, user, [f"note {i}" for i in range(10)])
    # As if these had been stored before the migration: not indexed, below the backfill's start.
    await db.execute("t.forget", "DELETE FROM message_search")
    await db.execute("t.start", "UPDATE search_backfill SET below = (SELECT max(id) + 1 FROM messages)")
    seen: list[tuple[int, int]] = []
    assert await search_store.backfill(db, batch=3, progress=lambda done, left: seen.append((done, left))) == 10
    assert seen == [(3, 7), (6, 4), (9, 1), (10, 0)]
    assert await _indexed(db) == 10
    assert await search_store.backfill(db) == 0, "done: nothing left"


async def test_reindex_repairs_the_index_while_messages_arrive(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    db = daemon.db
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        await post_many(db, ch, alice.user_id, [f"entry {i} apple" for i in range(500)])
        await db.execute("t.blank", "UPDATE message_search SET tsv = '' WHERE id % 3 = 0")
        await db.execute("t.lose", "DELETE FROM message_search WHERE id % 7 = 0")
        await db.execute("t.orphan", "INSERT INTO message_search VALUES (999999, $1, $2, now(), 'apple')", ch, alice.user_id)
        assert (await a.ok("search", q="apple"))["count"] < 500

        async def send_meanwhile() -> None:
            for i in range(30):
                await a.send_message(ch, f"live {i} apple")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(send_meanwhile)
            changed = await search_store.reindex(db, batch=50)
        assert changed >= 500 // 3 + 500 // 7 - 500 // 21
        assert (await a.ok("search", q="apple"))["count"] == 530
        assert await _indexed(db) == await db.fetchval("t.count", "SELECT count(*) FROM messages")
        assert await search_store.reindex(db) == 0, "a second run finds nothing to change"
        assert bodies(await a.ok("search", q='"entry 21"')) == ["entry 21 apple"]


async def test_chatd_search_reindex_command(daemon: MemoryDaemon, capsys: pytest.CaptureFixture[str],
                                            restore_logging: None) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        await a.send_message(ch, "index me please")
        await daemon.db.execute("t.forget", "DELETE FROM message_search")
        assert (await a.ok("search", q="please"))["count"] == 0
        code = await trio.to_thread.run_sync(lambda: main(["search", "reindex", "--database-url", daemon.db.dsn]))
        assert code == 0
        assert "reindexed: 1 message(s) changed" in capsys.readouterr().out
        assert bodies(await a.ok("search", q="please")) == ["index me please"]


async def test_files_make_has_file_has_image_and_file_names_searchable(server: RunningServer) -> None:
    """sql/0005: a message's file names are indexed like its text, with the markers has:file and
    has:image, as soon as the files are attached (in the send's transaction) — and a message
    whose files are released (a delete) is no longer found by them."""
    alice = await register(server, "alice")
    png = io.BytesIO()
    Image.new("RGB", (32, 24), "navy").save(png, "PNG")
    async with connect(server, alice) as a:
        ch = general_id(a)
        photo = await upload(server, alice, png.getvalue(), "DSC_0042.png")
        minutes = await upload(server, alice, b"%PDF-1.4 the minutes", "board-minutes-2025.pdf")
        await a.ok("send", ch=ch, cid=os.urandom(16), body="the view from the office", files=[photo["id"]])
        notes = await a.ok("send", ch=ch, cid=os.urandom(16), body="minutes attached", files=[minutes["id"]])
        await a.send_message(ch, "no files here")
        assert set(bodies(await a.ok("search", q="has:file"))) == {"the view from the office", "minutes attached"}
        assert bodies(await a.ok("search", q="has:image")) == ["the view from the office"]
        assert bodies(await a.ok("search", q="-has:image has:file")) == ["minutes attached"]
        assert bodies(await a.ok("search", q="dsc_0042")) == ["the view from the office"]
        assert bodies(await a.ok("search", q="minutes 2025")) == ["minutes attached"]
        await release_message_files(server.db, message_id=notes["id"])
        assert bodies(await a.ok("search", q="has:file")) == ["the view from the office"]
        assert bodies(await a.ok("search", q="2025")) == []

