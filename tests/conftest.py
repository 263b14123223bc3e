"""Test foundation: one private PostgreSQL per test session, a fresh database per test, and a
real chatd (Hypercorn over TLS on 127.0.0.1, port 0) for end-to-end tests.

The cluster is started by the same code as chatd's embedded default (``chatd.pgcluster``). The
schema is migrated once into a template database; each test gets ``CREATE DATABASE … TEMPLATE``,
which takes tens of milliseconds instead of a migration run.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
import trio_asyncio

from chatd.auth.passwords import Passwords
from chatd.clock import FakeClock
from chatd.config import Config, load_config
from chatd.log import ACCESS_LOGGER
from chatd.pgcluster import EmbeddedCluster
from chatd.store import Database, apply_migrations, open_database
from chatd.store.channels import ensure_default_channel
from tests.helpers.memory import MemoryDaemon, run_memory_daemon
from tests.helpers.server import RunningServer, run_test_server
from tests.test_auth_support import FAST_PARAMETERS

TEMPLATE_DB = "chatd_template"
_db_counter = itertools.count()


async def _prepare_template(cluster: EmbeddedCluster) -> None:
    async with trio_asyncio.open_loop():
        async with open_database(cluster.dsn_for("postgres"), 2, 30) as admin:
            await admin.execute("t.drop", f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
            await admin.execute("t.create", f'CREATE DATABASE "{TEMPLATE_DB}"')
        async with open_database(cluster.dsn_for(TEMPLATE_DB), 2, 30) as db:
            await apply_migrations(db)
            await ensure_default_channel(db)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[EmbeddedCluster]:
    """A throwaway PostgreSQL cluster for the whole session, with a migrated template database."""
    # Not under pytest's 0700 tmp folders: when tests run as root the server account must enter it.
    root = Path(tempfile.mkdtemp(prefix="chatd-test-pg-"))
    cluster = EmbeddedCluster(root)
    with cluster.running():
        trio.run(_prepare_template, cluster)
        yield cluster
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def aio_loop() -> AsyncIterator[None]:
    """The asyncio loop triopg needs, bridged into this test's Trio run."""
    async with trio_asyncio.open_loop():
        yield


@asynccontextmanager
async def _scratch_database(cluster: EmbeddedCluster, template: str | None) -> AsyncIterator[str]:
    """A new database (a copy of ``template``, or empty): its DSN; dropped afterwards."""
    name = f"t_{os.getpid()}_{next(_db_counter)}"
    like = f' TEMPLATE "{template}"' if template else ""
    async with open_database(cluster.dsn_for("postgres"), 2, 30) as admin:
        await admin.execute("t.create", f'CREATE DATABASE "{name}"{like}')
        try:
            yield cluster.dsn_for(name)
        finally:
            with trio.CancelScope(shield=True):
                await admin.execute("t.drop", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db_dsn(pg_cluster: EmbeddedCluster, aio_loop: None) -> AsyncIterator[str]:
    """A fresh database cloned from the migrated template; dropped after the test."""
    async with _scratch_database(pg_cluster, TEMPLATE_DB) as dsn:
        yield dsn


@pytest.fixture
async def empty_db(pg_cluster: EmbeddedCluster, aio_loop: None) -> AsyncIterator[Database]:
    """A database with nothing in it (not cloned from the migrated template); dropped after."""
    async with _scratch_database(pg_cluster, None) as dsn, open_database(dsn, 4, 10) as db:
        yield db


@pytest.fixture
async def db(db_dsn: str) -> AsyncIterator[Database]:
    async with open_database(db_dsn, 10, 10) as database:
        yield database


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh folder below /tmp: searchable by the PostgreSQL account when tests run as root
    (pytest's own tmp folders are private)."""
    path = Path(tempfile.mkdtemp(prefix="chatd-test-data-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server_config(data_dir: Path, db_dsn: str) -> Config:
    """Configuration of the test server: TLS on 127.0.0.1, port 0, the test's database."""
    return load_config(
        env={},
        overrides={"data_dir": str(data_dir), "port": 0, "database_url": db_dsn, "shutdown_grace_secs": 2},
    )


@pytest.fixture
def clock() -> FakeClock:
    """The test server's wall clock: moves only when the test says ``clock.advance(secs)``."""
    return FakeClock()


@pytest.fixture
async def server(
    server_config: Config, db: Database, nursery: trio.Nursery, clock: FakeClock
) -> AsyncIterator[RunningServer]:
    """A real chatd serving HTTPS and WebSockets on 127.0.0.1 for this test."""
    async with run_test_server(server_config, db, nursery, clock) as running:
        yield running


@pytest.fixture
async def daemon(server_config: Config, db: Database, clock: FakeClock) -> AsyncIterator[MemoryDaemon]:
    """The daemon's services and real WebSocket sessions, over memory transports (no HTTP, no TLS).

    For tests of the session and below; ``server`` is for what needs the real stack.
    """
    async with run_memory_daemon(server_config, db, Passwords(FAST_PARAMETERS), clock) as running:
        yield running


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that run ``setup_logging`` (``cli.main`` does): undo what it set afterwards."""
    loggers = [logging.getLogger(), logging.getLogger(ACCESS_LOGGER)]
    levels = [lg.level for lg in loggers]
    yield
    for handler in list(loggers[0].handlers):
        if getattr(handler, "_chatd", False):
            loggers[0].removeHandler(handler)
    for lg, level in zip(loggers, levels, strict=True):
        lg.setLevel(level)
