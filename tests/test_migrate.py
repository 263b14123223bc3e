"""Migrations: in order, exactly once, each in its own transaction, safe against a race."""

from __future__ import annotations

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


