"""The store's connection pool: what a borrower leaves behind never reaches the next one.

Single queries and transactions skip asyncpg's reset round trip (chatd.store.db explains why);
a connection lent by ``Database.connection`` may carry session state and is still reset.
"""

from __future__ import annotations

import contextvars
import gc
import weakref

import pytest

from chatd.store import StoreError, open_database
from chatd.store.db import STATEMENT_TIMEOUT_SECS

ADVISORY_LOCKS = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"


async def test_a_lent_connection_is_reset_before_its_next_use(db_dsn: str) -> None:
    async with open_database(db_dsn, 1, 10) as db:  # one connection: the next query reuses it
        async with db.connection("t.lend") as conn:
            pid = await conn.fetchval("t.pid", "SELECT pg_backend_pid()")
            await conn.execute("t.set", "SET statement_timeout = '4321ms'")
            await conn.execute("t.lock", "SELECT pg_advisory_lock(77)")
        assert await db.fetchval("t.pid", "SELECT pg_backend_pid()") == pid
        assert await db.fetchval("t.show", "SHOW statement_timeout") == f"{STATEMENT_TIMEOUT_SECS // 60}min"  # the pool's
        assert await db.fetchval("t.locks", ADVISORY_LOCKS) == 0


async def test_a_failed_transaction_is_rolled_back_before_its_next_use(db_dsn: str) -> None:
    async with open_database(db_dsn, 1, 10) as db:
        await db.execute("t.table", "CREATE TABLE t_pool (x int)")
        with pytest.raises(StoreError):
            async with db.transaction("t.tx") as tx:
                await tx.execute("t.insert", "INSERT INTO t_pool VALUES (1)")
                await tx.execute("t.fail", "SELECT 1 / 0")
        # Still inside the aborted transaction, this query would fail instead.
        assert await db.fetchval("t.count", "SELECT count(*) FROM t_pool") == 0


async def test_a_runaway_statement_is_cancelled_by_the_server(db_dsn: str) -> None:
    """The time limit is PostgreSQL's (``statement_timeout``), not an asyncio timer per query."""
    async with open_database(db_dsn, 1, 10) as db:
        assert await db.fetchval("t.show", "SHOW statement_timeout") == f"{STATEMENT_TIMEOUT_SECS // 60}min"
        async with db.connection("t.short") as conn:
            await conn.execute("t.set", "SET statement_timeout = '50ms'")
            with pytest.raises(StoreError, match="statement timeout"):
                await conn.fetchval("t.sleep", "SELECT pg_sleep(5)")


class _Request:
    """Stands for a request's state (Quart keeps its whole connection in a contextvar)."""


REQUEST: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("REQUEST", default=None)


async def test_a_connection_opened_during_a_request_keeps_nothing_of_it(db_dsn: str) -> None:
    """The driver's asyncio tasks — and the reader, timers and Trio tasks they start — run in the
    database's own context: a pool connection opened for a request's query (it lives on for
    good) would otherwise keep that request, and its connection, alive with it."""
    async with open_database(db_dsn, 2, 10) as db:
        async with db.connection("t.hold"):  # the pool's one connection is lent: the next opens another
            request = _Request()
            gone = weakref.ref(request)
            token = REQUEST.set(request)
            try:
                assert await db.fetchval("t.second", "SELECT 1") == 1
            finally:
                REQUEST.reset(token)
            del request
        assert db.pool_stats()[0] == 2  # that connection stays open
        gc.collect()
        assert gone() is None
