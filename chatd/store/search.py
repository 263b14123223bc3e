"""Search: one page of results (sql ``chatd_search_page``), spelling candidates, and keeping the
index whole (the backfill after migration 0003, ``chatd search reindex``).

Visibility is the SQL's: every query reads only the channels the user is a member of when it
runs. Rows come back as frozen dataclasses; ``chatd.render`` turns hits into wire shapes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatd.store.db import Conn, Database

log = logging.getLogger("chatd.store.search")

#: Matches are counted up to this many; beyond, the count is shown as "1,000+".
COUNT_CAP = 1000
#: A search slower than this is cancelled by the server (answered ``unavailable``). Every plan
#: is bounded well below it (docs/performance.md, S9); it is a backstop, not a budget.
SEARCH_TIMEOUT_SECS = 5.0
#: Messages (re)indexed per transaction by the backfill and the reindex: ~0.2 s each, so a
#: writer waiting on one of its row locks waits that long at most.
BATCH = 2000


@dataclass(frozen=True, slots=True)
class Terms:
    """A query's text as sql ``chatd_search_query`` reads it (parallel lists)."""

    texts: Sequence[str]
    modes: Sequence[int]
    groups: Sequence[int]


@dataclass(frozen=True, slots=True)
class Scope:
    """What narrows a search besides its words: authors and channels (keys), a time span."""

    from_keys: Sequence[str] | None = None
    not_from_keys: Sequence[str] | None = None
    in_keys: Sequence[str] | None = None
    not_in_keys: Sequence[str] | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page starts: None for the first one; else the keyset of the previous page's
    last hit and the snapshot it was taken in (see ``chatd_search_page``)."""

    snapshot: int
    ref_ms: int
    phase: int
    key: int
    id: int


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: the message, and its highlights as (start, length) in code points of body."""

    id: int
    channel_id: int
    seq: int
    ts_ms: int
    user_id: int
    username: str
    display_name: str
    body: str
    highlights: tuple[tuple[int, int], ...]
    phase: int
    key: int


@dataclass(frozen=True, slots=True)
class Page:
    """A page of results. ``count`` is exact up to COUNT_CAP; ``capped``: there are more."""

    count: int
    capped: bool
    hits: tuple[Hit, ...]
    more: bool
    snapshot: int
    ref_ms: int
    min_candidate: int | None


def _hit(h: dict[str, Any]) -> Hit:
    hl = h["hl"]
    return Hit(
        h["id"], h["ch"], h["seq"], h["ts"], h["user"], h["name"], h["display"], h["body"],
        tuple((hl[i], hl[i + 1]) for i in range(0, len(hl) - 1, 2)), h["phase"], h["key"] or 0,
    )


async def search_page(db: Conn, *, user_id: int, terms: Terms, scope: Scope, newest: bool,
                      position: Position | None, limit: int) -> Page:
    """One page of the user's search (one statement). Raises QueryTimeout past SEARCH_TIMEOUT_SECS."""
    p = position
    raw = await db.fetchval(
        "search.page",
        "SELECT chatd_search_page($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
        "to_timestamp($13::double precision / 1000), $14, $15, $16, $17)::text",
        user_id, list(terms.texts), list(terms.modes), list(terms.groups),
        _opt(scope.from_keys), _opt(scope.not_from_keys), _opt(scope.in_keys), _opt(scope.not_in_keys),
        scope.since, scope.until, newest,
        p.snapshot if p else None, p.ref_ms if p else None, p.phase if p else None,
        p.key if p else None, p.id if p else None, limit,
        cancel_after_secs=SEARCH_TIMEOUT_SECS,
    )
    doc = json.loads(raw)
    count = int(doc["count"])
    return Page(
        count=min(count, COUNT_CAP), capped=count > COUNT_CAP,
        hits=tuple(_hit(h) for h in doc["hits"]), more=bool(doc["more"]),
        snapshot=int(doc.get("snapshot") or 0), ref_ms=int(doc.get("ref") or 0),
        min_candidate=doc.get("min"),
    )


def _opt(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(values)


async def similar_words(db: Conn, *, user_id: int, word: str, limit: int) -> list[str]:
    """Words like ``word`` (trigram similarity) found in a message the user can read, best first."""
    words = await db.fetchval(
        "search.similar", "SELECT chatd_search_similar($1, $2, $3)", user_id, word, limit,
        cancel_after_secs=SEARCH_TIMEOUT_SECS,
    )
    return list(words or [])


# --- keeping the index whole ---------------------------------------------------------------------


async def learn_queued(db: Conn, *, batch: int = BATCH) -> int:
    """Add the words of up to ``batch`` newly sent messages to the lexicon; how many it took."""
    n: int = await db.fetchval("search.learn_queued", "SELECT chatd_search_learn_queued($1)", batch)
    return n


async def backfill(db: Database, *, batch: int = BATCH, progress: Callable[[int, int], None] | None = None) -> int:
    """Index the messages migration 0003 found, newest first, one batch per transaction.

    Resumable (``search_backfill.below`` moves down with each committed batch) and a no-op when
    done. Returns how many messages it indexed. ``progress(done, left)`` after each batch.
    """
    total = await db.fetchval(
        "search.backfill_total",
        "SELECT count(*) FROM messages WHERE id < (SELECT below FROM search_backfill)",
    )
    done = 0
    while True:
        async with db.transaction("search.backfill") as tx:
            below = await tx.fetchval("search.backfill_position", "SELECT below FROM search_backfill FOR UPDATE")
            if below is None or below <= 1:
                return done
            low = await tx.fetchval(
                "search.backfill_low",
                "SELECT min(id) FROM (SELECT id FROM messages WHERE id < $1 ORDER BY id DESC LIMIT $2) x",
                below, batch,
            )
            if low is not None:
                done += await tx.fetchval(
                    "search.backfill_batch",
                    "SELECT chatd_search_refresh(array(SELECT id FROM messages WHERE id >= $1 AND id < $2))",
                    low, below,
                )
            await tx.execute("search.backfill_move", "UPDATE search_backfill SET below = $1", low or 1)
        if progress is not None:
            progress(done, max(total - done, 0))
        if low is None:
            return done


async def reindex(db: Database, *, batch: int = BATCH, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild every message's index row from its current text, one batch per transaction,
    oldest first, while chatd runs (new messages are indexed by the triggers meanwhile).

    Also removes rows of messages that no longer exist. Returns how many rows changed.
    """
    total = await db.fetchval("search.reindex_total", "SELECT count(*) FROM messages")
    changed = 0
    seen = 0
    after = 0
    while True:
        async with db.transaction("search.reindex") as tx:
            ids = await tx.fetchval(
                "search.reindex_ids",
                "SELECT array(SELECT id FROM messages WHERE id > $1 ORDER BY id LIMIT $2)", after, batch,
            )
            if not ids:
                break
            changed += await tx.fetchval("search.reindex_batch", "SELECT chatd_search_refresh($1)", ids)
            await tx.execute(
                "search.reindex_orphans",
                "DELETE FROM message_search s WHERE s.id > $1 AND s.id <= $2 "
                "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.id)", after, ids[-1],
            )
        after = ids[-1]
        seen += len(ids)
        if progress is not None:
            progress(seen, max(total - seen, 0))
    async with db.transaction("search.reindex_tail") as tx:  # rows past the last message
        await tx.execute(
            "search.reindex_orphans_tail",
            "DELETE FROM message_search s WHERE s.id > $1 AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.id)",
            after,
        )
    return changed
