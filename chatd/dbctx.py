"""Database access for one-shot commands (``chatd migrate``, the admin CLI).

With ``database_url`` set, connect there. With the embedded default, use the daemon's running
cluster if there is one (its socket is in the data directory), else start the cluster for the
duration of the command and stop it after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio
import trio_asyncio

from chatd.config import Config
from chatd.pgcluster import DB_NAME, ClusterError, EmbeddedCluster
from chatd.store import Database, open_database


@asynccontextmanager
async def open_db_for_cli(cfg: Config) -> AsyncIterator[Database]:
    """Open the configured database for a command; cleans up what it started."""
    async with trio_asyncio.open_loop():
        if not cfg.embedded_db:
            async with open_database(cfg.database_url, 2, cfg.db_connect_timeout_secs) as db:
                yield db
            return
        if not cfg.data_dir.is_dir():
            raise ClusterError(f"data_dir {cfg.data_dir} does not exist: run `chatd serve` once first")
        cluster = EmbeddedCluster(cfg.data_dir)
        if not cluster.initialised:
            raise ClusterError(f"no database in {cfg.data_dir}: run `chatd serve` once first")
        started_here = False
        if not cluster.is_running():
            await trio.to_thread.run_sync(cluster.prepare)
            cluster.start()
            started_here = True
        try:
            await ensure_embedded_database(cluster)
            async with open_database(cluster.dsn, 2, 10) as db:
                yield db
        finally:
            if started_here:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(cluster.stop)


async def ensure_embedded_database(cluster: EmbeddedCluster) -> None:
    """initdb creates only ``postgres``; create the ``chatd`` database on first start."""
    async with open_database(cluster.dsn_for("postgres"), pool_size=2, connect_timeout_secs=30) as admin:
        exists = await admin.fetchval("db.exists", "SELECT 1 FROM pg_database WHERE datname = $1", DB_NAME)
        if not exists:
            await admin.execute("db.create", f'CREATE DATABASE "{DB_NAME}"')
