"""Schema migrations: numbered SQL files applied in order, each exactly once.

Files are named ``NNNN_name.sql`` in the project's ``sql/`` folder. Each is applied in its own
transaction together with its row in ``schema_migrations``, so a file either applies completely
and is recorded, or not at all. A session-level advisory lock serialises concurrent migrators
(two chatd processes starting at once): the second waits, then finds nothing left to do.
Released files are never edited; a changed checksum is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from chatd.store.db import Database, StoreError

log = logging.getLogger("chatd.migrate")

MIGRATION_LOCK_KEY = 0x636861746400  # "chatd\0": any constant unique to chatd
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """A migration could not be applied (message names the file)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def default_sql_dir() -> Path:
    """The ``sql/`` folder of a source checkout, else the one installed under ``share/chatd``."""
    here = Path(__file__).resolve().parents[2] / "sql"
    if here.is_dir():
        return here
    return Path(sys.prefix) / "share" / "chatd" / "sql"


def find_migrations(folder: Path) -> list[Migration]:
    """The migrations in ``folder``, in order; refuses stray names and duplicate numbers."""
    if not folder.is_dir():
        raise MigrationError(f"migration folder {folder} does not exist")
    found: dict[int, Migration] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix != ".sql":
            continue
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_name.sql")
        version = int(m.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version, m.group(2), path)
    return [found[v] for v in sorted(found)]


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


async def apply_migrations(db: Database, folder: Path | None = None) -> list[Migration]:
    """Apply every migration not yet recorded; return those applied now (maybe none).

    Raises MigrationError naming the file when one fails (its transaction is rolled back), or when
    the database has a version newer than any file (chatd was downgraded).
    """
    migrations = find_migrations(folder or default_sql_dir())
    applied_now: list[Migration] = []
    async with db.connection("migrate") as conn:
        await conn.execute("migrate.lock", "SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await conn.execute("migrate.create_table", _CREATE_TABLE)
            rows = await conn.fetch("migrate.applied", "SELECT version, name, checksum FROM schema_migrations")
            applied = {r["version"]: r for r in rows}
            known = {m.version for m in migrations}
            newer = sorted(v for v in applied if v not in known and v > max(known, default=0))
            if newer:
                raise MigrationError(
                    f"the database has migration {newer[-1]:04d}, newer than this chatd knows; "
                    "run the newer chatd (downgrades are not supported)"
                )
            for m in migrations:
                if m.version in applied:
                    if applied[m.version]["checksum"] != m.checksum:
                        log.warning("event=migrate.checksum_changed file=%s", m.path.name)
                    continue
                try:
                    async with db.transaction(f"migrate.{m.version:04d}") as tx:
                        await tx.execute(f"migrate.{m.path.name}", m.sql)
                        await tx.execute(
                            "migrate.record",
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                            m.version, m.name, m.checksum,
                        )
                except StoreError as exc:
                    raise MigrationError(f"migration {m.path.name} failed and was rolled back: {exc}") from exc
                log.info("event=migrate.applied file=%s", m.path.name)
                applied_now.append(m)
        finally:
            with contextlib.suppress(StoreError):  # a broken connection has released it anyway
                await conn.execute("migrate.unlock", "SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied_now
