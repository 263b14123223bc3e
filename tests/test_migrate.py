"""Migrations: in order, exactly once, each in its own transaction, safe against a race; and an
upgrade from every earlier migration loses no message, seq or session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import trio

from chatd.store import Database, MigrationError, apply_migrations
from chatd.store.migrate import default_sql_dir, find_migrations


def _write(folder: Path, name: str, sql: str) -> None:
    (folder / name).write_text(sql)


async def test_project_migrations_apply_once(empty_db: Database) -> None:
    applied = await apply_migrations(empty_db)
    assert [m.version for m in applied] == [m.version for m in find_migrations(default_sql_dir())]
    assert await apply_migrations(empty_db) == []
    versions = await empty_db.fetch("t", "SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in versions] == [m.version for m in applied]


async def test_racing_migrators_apply_each_file_once(empty_db: Database, tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.sql", "CREATE TABLE counter (n integer); INSERT INTO counter VALUES (1);")
    _write(tmp_path, "0002_b.sql", "UPDATE counter SET n = n + 1; SELECT pg_sleep(0.2);")
    results: list[int] = []

    async def migrator() -> None:
        results.append(len(await apply_migrations(empty_db, tmp_path)))

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(migrator)
    assert sorted(results) == [0, 0, 2]
    assert await empty_db.fetchval("t", "SELECT n FROM counter") == 2


async def test_failing_migration_rolls_back_and_names_file(empty_db: Database, tmp_path: Path) -> None:
    _write(tmp_path, "0001_ok.sql", "CREATE TABLE kept (id integer);")
    _write(tmp_path, "0002_broken.sql", "CREATE TABLE half (id integer); SELECT no_such_function();")
    with pytest.raises(MigrationError, match=r"0002_broken\.sql"):
        await apply_migrations(empty_db, tmp_path)
    tables = {r["tablename"] for r in await empty_db.fetch("t", "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert "kept" in tables
    assert "half" not in tables  # its transaction rolled back
    assert await empty_db.fetchval("t", "SELECT max(version) FROM schema_migrations") == 1


async def test_database_newer_than_code_is_refused(empty_db: Database, tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.sql", "SELECT 1;")
    await apply_migrations(empty_db, tmp_path)
    await empty_db.execute("t", "INSERT INTO schema_migrations (version, name, checksum) VALUES (9, 'future', 'x')")
    with pytest.raises(MigrationError, match="newer than this chatd knows"):
        await apply_migrations(empty_db, tmp_path)


def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "1_init.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_lowercase_name\.sql"):
        find_migrations(tmp_path)


def test_duplicate_version_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.sql", "SELECT 1;")
    _write(tmp_path, "0001_b.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match="used twice"):
        find_migrations(tmp_path)


# --- Upgrade safety: a database built at each earlier migration, with data in it, migrated to
# head, keeps every message (channel, seq, cid, body), every channel's last seq, every session.
# Data goes in with SQL for the schema of the version it targets (POPULATE: the entry for the
# highest version at or below the database's). A new migration that changes these tables adds
# an entry if the previous one no longer applies to its schema.

MIGRATIONS = find_migrations(default_sql_dir())
POPULATE_V1 = """
INSERT INTO users (username, username_key, display_name, password_hash)
SELECT 'u' || i, 'u' || i, 'User ' || i, '$argon2id$x' FROM generate_series(1, 5) i;
INSERT INTO sessions (user_id, token_hash, expires_at, client_addr)
SELECT id, sha256(convert_to('token' || id, 'UTF8')), now() + interval '1 day', '127.0.0.1' FROM users;
INSERT INTO channels (name, name_key) VALUES ('general', 'general'), ('ops', 'ops');
INSERT INTO channel_members (channel_id, user_id, read_seq) SELECT c.id, u.id, 3 FROM channels c, users u;
INSERT INTO messages (channel_id, seq, user_id, cid, body)
SELECT c.id, s, (SELECT min(id) FROM users) + s % 5, substring(sha256(convert_to(c.name || s, 'UTF8')) FROM 1 FOR 16),
       'message ' || s || ' in ' || c.name || ' é ✓'
FROM channels c, generate_series(1, 250) s;
-- one gap-free channel and one whose counter ran ahead (a batch that rolled back)
UPDATE channels SET last_seq = CASE name WHEN 'general' THEN 250 ELSE 252 END;
"""
POPULATE = {1: POPULATE_V1}


async def _snapshot(db: Database) -> dict[str, object]:
    messages = await db.fetch("t", "SELECT channel_id, seq, cid, body, user_id FROM messages ORDER BY 1, 2")
    channels = await db.fetch("t", "SELECT id, name, last_seq FROM channels ORDER BY id")
    sessions = await db.fetch("t", "SELECT id, user_id, token_hash, expires_at FROM sessions ORDER BY id")
    members = await db.fetch("t", "SELECT channel_id, user_id, read_seq FROM channel_members ORDER BY 1, 2")
    return {"messages": [tuple(r) for r in messages], "channels": [tuple(r) for r in channels],
            "sessions": [tuple(r) for r in sessions], "members": [tuple(r) for r in members]}


@pytest.mark.parametrize("version", [m.version for m in MIGRATIONS[:-1]] or [0])
async def test_data_at_an_earlier_migration_survives_the_upgrade(
    empty_db: Database, version: int, tmp_path: Path
) -> None:
    if version == 0:
        pytest.fail("only one migration: nothing to upgrade from yet (this test needs two or more)")
    for m in MIGRATIONS:
        if m.version <= version:
            shutil.copy(m.path, tmp_path / m.path.name)
    assert [m.version for m in await apply_migrations(empty_db, tmp_path)] == [
        m.version for m in MIGRATIONS if m.version <= version
    ]
    populate = POPULATE[max(v for v in POPULATE if v <= version)]
    async with empty_db.transaction("t.populate") as tx:
        await tx.execute("t.populate", populate)
    before = await _snapshot(empty_db)
    assert len(before["messages"]) == 500 and len(before["sessions"]) == 5  # type: ignore[arg-type]

    applied = await apply_migrations(empty_db)  # the real folder: to head
    assert [m.version for m in applied] == [m.version for m in MIGRATIONS if m.version > version]
    assert await _snapshot(empty_db) == before
    # The upgraded database still takes new messages at the next seq of each channel.
    rows = await empty_db.fetch(
        "t", "SELECT * FROM chatd_post_messages((SELECT id FROM channels WHERE name = 'ops'), "
             "ARRAY[(SELECT min(id) FROM users)], ARRAY[substring(sha256('new') FROM 1 FOR 16)], ARRAY['after the upgrade'])")
    assert [(r["seq"], r["existed"]) for r in rows] == [(253, False)]
