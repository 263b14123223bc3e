"""The one place that knows the PostgreSQL driver (triopg, i.e. asyncpg through trio-asyncio).

Everything else talks to ``Database``: named queries (the name appears in logs and errors),
transactions, LISTEN. Driver exceptions are translated into the store's own: ``Unavailable``
(the server cannot be reached; the caller may retry), ``UniqueViolation``, ``StoreError``.
Swapping the driver means rewriting this module only.

A ``Database`` must be used inside ``trio_asyncio.open_loop()`` (``open_database`` checks).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Protocol

import asyncpg
import trio
import trio_asyncio
import triopg

log = logging.getLogger("chatd.store")

Record = Any  # asyncpg.Record: mapping and sequence access by column
SLOW_QUERY_SECS = 0.5  # logged as a warning: far above any query the hot path should take
STATEMENT_TIMEOUT_SECS = 60  # a statement (lock waits included) running longer is cancelled by PostgreSQL


class StoreError(Exception):
    """A query failed for a reason the caller did not anticipate."""


class Unavailable(StoreError):
    """The database cannot be reached right now; retrying later may succeed."""


class QueryTimeout(Unavailable):
    """A query ran past the time its caller allowed and was cancelled on the server."""


class UniqueViolation(StoreError):
    """A unique constraint refused the write; ``constraint`` names it."""

    def __init__(self, message: str, constraint: str | None) -> None:
        super().__init__(message)
        self.constraint = constraint


_UNAVAILABLE = (
    OSError,
    ConnectionError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InterfaceError,
)


# What the driver raises; anything else raised inside a ``with`` block is the caller's own.
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, *_UNAVAILABLE)


def _translate(name: str, exc: BaseException) -> StoreError:
    if isinstance(exc, TimeoutError):  # asyncpg's ``timeout=``: the server cancelled the query
        return QueryTimeout(f"{name}: cancelled after its timeout")
    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        return UniqueViolation(f"{name}: {exc}", getattr(exc, "constraint_name", None))
    if isinstance(exc, _UNAVAILABLE):
        return Unavailable(f"{name}: database unavailable ({type(exc).__name__}: {exc})")
    return StoreError(f"{name}: {type(exc).__name__}: {exc}")


class _Queryable(Protocol):
    async def fetch(self, query: str, *args: Any) -> list[Record]: ...
    async def fetchrow(self, query: str, *args: Any) -> Record | None: ...
    async def fetchval(self, query: str, *args: Any) -> Any: ...
    async def execute(self, query: str, *args: Any) -> str: ...


class Conn:
    """Named-query methods over one connection (inside or outside a transaction)."""

    def __init__(self, raw: _Queryable) -> None:
        self._raw = raw

    async def _run(self, method: str, name: str, sql: str, args: Sequence[Any],
                   cancel_after_secs: float | None = None) -> Any:
        started = time.perf_counter()
        try:
            if cancel_after_secs is None:
                result = await getattr(self._raw, method)(sql, *args)
            else:  # asyncpg cancels the query on the server (a trio deadline would not)
                result = await getattr(self._raw, method)(sql, *args, timeout=cancel_after_secs)
        except StoreError:
            raise
        except Exception as exc:
            raise _translate(name, exc) from exc
        elapsed = time.perf_counter() - started
        if elapsed > SLOW_QUERY_SECS:
            log.warning("event=db.slow_query query=%s seconds=%.3f", name, elapsed)
        return result

    async def fetch(self, name: str, sql: str, *args: Any) -> list[Record]:
        """Run query ``name`` and return all rows."""
        rows: list[Record] = await self._run("fetch", name, sql, args)
        return rows

    async def fetchrow(self, name: str, sql: str, *args: Any) -> Record | None:
        """Run query ``name`` and return the first row, or None."""
        return await self._run("fetchrow", name, sql, args)

    async def fetchval(self, name: str, sql: str, *args: Any, cancel_after_secs: float | None = None) -> Any:
        """Run query ``name`` and return the first column of the first row.

        With ``cancel_after_secs`` the query is cancelled on the server after that long and
        ``QueryTimeout`` raised.
        """
        return await self._run("fetchval", name, sql, args, cancel_after_secs)

    async def execute(self, name: str, sql: str, *args: Any) -> str:
        """Run statement ``name``; returns the command status (e.g. ``UPDATE 1``)."""
        status: str = await self._run("execute", name, sql, args)
        return status


async def _pool_call_aio(pool: Any, method: str, sql: str, args: Sequence[Any], cancel_after: float | None) -> Any:
    async with pool.acquire() as con:
        if cancel_after is None:
            return await getattr(con, method)(sql, *args)
        return await getattr(con, method)(sql, *args, timeout=cancel_after)


# Acquire, run and release inside ONE asyncio coroutine: one trip across the trio-asyncio bridge
# instead of three (each costs ~0.3 ms here, and more in the tail under load).
_pool_call: Callable[[Any, str, str, Sequence[Any], float | None], Awaitable[Any]] = trio_asyncio.aio_as_trio(
    _pool_call_aio
)


class _OneHopPool:
    """The query methods of an asyncpg pool, each a single bridge crossing."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def fetch(self, query: str, *args: Any) -> list[Record]:
        rows: list[Record] = await _pool_call(self._pool, "fetch", query, args, None)
        return rows

    async def fetchrow(self, query: str, *args: Any) -> Record | None:
        return await _pool_call(self._pool, "fetchrow", query, args, None)

    async def fetchval(self, query: str, *args: Any, **options: Any) -> Any:
        # options: asyncpg's timeout=, the only one chatd passes (Conn.fetchval's cancel_after_secs)
        return await _pool_call(self._pool, "fetchval", query, args, options.get("timeout"))

    async def execute(self, query: str, *args: Any) -> str:
        status: str = await _pool_call(self._pool, "execute", query, args, None)
        return status


class Database(Conn):
    """A pool of connections to one database; query methods borrow a connection per call."""

    def __init__(self, pool: Any, dsn: str) -> None:
        super().__init__(_OneHopPool(pool._asyncpg_pool))
        self._pool = pool
        self.dsn = dsn

    @asynccontextmanager
    async def connection(self, name: str) -> AsyncIterator[Conn]:
        """Borrow one connection for several statements (no transaction).

        Its session state (advisory locks, settings) is reset when it goes back to the pool.
        """
        try:
            async with self._pool.acquire() as raw:
                _needs_reset.add(raw._asyncpg_conn)
                yield Conn(raw)
        except _DRIVER_ERRORS as exc:
            raise _translate(name, exc) from exc

    @asynccontextmanager
    async def transaction(self, name: str) -> AsyncIterator[Conn]:
        """One transaction: committed when the block exits normally, rolled back otherwise."""
        try:
            async with self._pool.acquire() as raw, raw.transaction():
                yield Conn(raw)
        except _DRIVER_ERRORS as exc:
            raise _translate(name, exc) from exc

    @asynccontextmanager
    async def listen(self, channel: str, buffer: int = 1000) -> AsyncIterator[Listener]:
        """LISTEN on ``channel`` over a dedicated connection (closed when the block exits).

        Notifications are passive: the caller must ``probe()`` now and then to notice a dead
        server. On buffer overflow the marker ``"!overflow"`` is delivered, so the listener can
        catch up from the database.
        """
        try:
            async with triopg.connect(self.dsn) as raw, raw.listen(channel, max_buffer_size=buffer) as notes:
                yield Listener(raw, notes)
        except _DRIVER_ERRORS as exc:
            raise _translate(f"listen:{channel}", exc) from exc

    def pool_stats(self) -> tuple[int, int, int]:
        """(connections open, of which in use, the pool's maximum)."""
        pool = self._pool._asyncpg_pool
        size = int(pool.get_size())
        return size, size - int(pool.get_idle_size()), int(pool.get_max_size())

    async def ping(self) -> bool:
        """True iff a trivial query succeeds within 2 s."""
        with trio.move_on_after(2):
            try:
                return bool(await self.fetchval("ping", "SELECT 1") == 1)
            except StoreError:
                return False
        return False


class Listener:
    """An active LISTEN: iterate it for payload strings; ``probe()`` checks the connection."""

    def __init__(self, raw: Any, notes: Any) -> None:
        self._raw = raw
        self._notes = notes

    def __aiter__(self) -> Listener:
        return self

    async def __anext__(self) -> str:
        try:
            note = await self._notes.__anext__()
        except _DRIVER_ERRORS as exc:
            raise _translate("listen", exc) from exc
        return "!overflow" if note is triopg.NOTIFY_OVERFLOW else str(note)

    async def probe(self) -> None:
        """Raise ``Unavailable`` if the LISTEN connection is dead."""
        try:
            await self._raw.fetchval("SELECT 1")
        except _DRIVER_ERRORS as exc:
            raise _translate("listen.probe", exc) from exc


# Pool connections that ``Database.connection`` lent out: only these may carry session state
# (an advisory lock, a setting) and are reset on release. Single queries and transactions leave
# none (chatd never uses SET, cursors or LISTEN on the pool), and asyncpg's default reset — a
# second round trip of four statements on every release — doubled the cost of every query
# (measured: pool query 720 → 378 µs wall, 448 → 265 µs CPU).
_needs_reset: weakref.WeakSet[Any] = weakref.WeakSet()


async def _reset_if_lent(con: Any) -> None:
    """asyncpg's pool ``reset`` hook (an open transaction is always rolled back before it)."""
    if con in _needs_reset:
        _needs_reset.discard(con)
        await con.execute(con.get_reset_query())


async def _connect_pool(dsn: str, pool_size: int) -> Any:
    pool = triopg.create_pool(
        dsn,
        min_size=1,
        max_size=pool_size,
        reset=_reset_if_lent,
        # No asyncio timer armed by a query: a timer keeps a copy of its caller's contextvars
        # until it is due, even once cancelled (trio-asyncio keeps it in its heap), and a
        # request's context holds the whole connection (Quart's WebSocket, Hypercorn's streams,
        # the TLS buffers). asyncpg's 60 s command timeout, 300 s idle-connection timer and 300 s
        # statement-cache expiry each pinned a closed connection (~25 KB) for minutes: memory grew
        # with connection churn (issue 16). PostgreSQL enforces the time limit instead; idle
        # connections and cached statements (chatd has a few dozen) are simply kept.
        command_timeout=None,
        max_inactive_connection_lifetime=0,
        max_cached_statement_lifetime=0,
        server_settings={
            "application_name": f"chatd[{os.getpid()}]",
            "timezone": "UTC",
            # the hot path must never wait on a long DDL lock or a runaway query
            "statement_timeout": f"{STATEMENT_TIMEOUT_SECS * 1000}",
        },
    )
    await pool.__aenter__()
    return pool


@asynccontextmanager
async def open_database(dsn: str, pool_size: int = 10, connect_timeout_secs: float = 0) -> AsyncIterator[Database]:
    """Connect a pool to ``dsn``, retrying with backoff for up to ``connect_timeout_secs``.

    Raises ``Unavailable`` with the last error when the time runs out. Must run inside
    ``trio_asyncio.open_loop()``. The pool is closed when the block exits.
    """
    with _driver_tasks_in_this_context():
        async with _open_pool(dsn, pool_size, connect_timeout_secs) as db:
            yield db


@contextmanager
def _driver_tasks_in_this_context() -> Iterator[None]:
    """While the block runs, every asyncio task on this loop starts in a copy of the current
    context (the database's owner's), not in that of the code that awaits it.

    An asyncio task copies the contextvars of its creator, and so do the handles, timers and
    Trio tasks (trio-asyncio's fd readers) it creates in turn — some for as long as a pool
    connection lives. A request's context holds its whole connection (Quart keeps the WebSocket
    or request in contextvars), so a pool connection opened for a request's query kept that
    request's objects (Hypercorn's streams, the TLS buffers) for good, and an asyncio timer
    kept them until due (issue 16). Every query crosses into asyncio as a task
    (``aio_as_trio``), so the task factory is the one place to cut that link.
    """
    loop = trio_asyncio.current_loop.get()
    if loop is None:
        raise RuntimeError("the database needs trio_asyncio.open_loop() around it")
    base = contextvars.copy_context()

    def factory(
        loop: asyncio.AbstractEventLoop, coro: Any, context: contextvars.Context | None = None
    ) -> asyncio.Task[Any]:
        return asyncio.Task(coro, loop=loop, context=base.copy() if context is None else context)

    previous = loop.get_task_factory()
    loop.set_task_factory(factory)
    try:
        yield
    finally:
        loop.set_task_factory(previous)


@asynccontextmanager
async def _open_pool(dsn: str, pool_size: int, connect_timeout_secs: float) -> AsyncIterator[Database]:
    deadline = trio.current_time() + connect_timeout_secs
    delay = 0.1
    attempt = 0
    while True:
        attempt += 1
        try:
            pool = await _connect_pool(dsn, pool_size)
            break
        except Exception as exc:
            err = _translate("connect", exc)
            if not isinstance(err, Unavailable) and not isinstance(exc, asyncpg.exceptions.InvalidCatalogNameError):
                raise err from exc
            remaining = deadline - trio.current_time()
            if remaining <= 0:
                raise Unavailable(f"cannot connect to the database after {attempt} attempts: {exc}") from exc
            log.warning(
                "event=db.connect_retry attempt=%d error=%s retry_in=%.1f", attempt, str(exc), min(delay, remaining)
            )
            await trio.sleep(min(delay, remaining))
            delay = min(delay * 2, 5.0)
    try:
        yield Database(pool, dsn)
    finally:
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            await pool.close()
