"""S9: search at 1,000,000 messages of realistic text, one query class at a time.

The corpus (bench/corpus.py: Zipf words in eight languages, code tokens, URLs, CJK, emoji) is
written straight into the database over three years in 50 channels, 5 of them private and not
the searcher's (so visibility is part of every plan), then indexed in bulk with chatd's own SQL
tokenizer, two connections in parallel (a send indexes its message in its own statement; a
million at once is faster with the index's pending list on, then flushed). Seeded once per
bench invocation, like S6's messages.

One connection then runs each class's queries one after another (after a warm-up): the
searcher's round trip through TLS, the session and PostgreSQL is the latency. Every hit is
checked to be in a channel the searcher may read; any other is a leak and fails the run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import time
from typing import Any

import asyncpg

from bench import seed
from bench.corpus import Corpus
from bench.scenarios import Ctx, Window, info_of
from bench.stats import summarize

CHANNELS = 50
PRIVATE = 5  # the last ones: private, and the searcher is not in them
AUTHORS = 200
YEARS = 3


def queries(corpus: Corpus, authors: list[str], channels: list[str]) -> dict[str, list[str]]:
    """The query classes of issue 11, each a list of queries cycled through."""
    p = corpus.planted
    return {
        "common": list(p.common),
        "mid": list(p.mid),
        "rare": list(p.rare),
        "rare_old": list(p.rare_old),
        "and": [f"{a} {b}" for a, b in zip(p.mid, p.mid[1:] + p.mid[:1], strict=True)]
               + [f"{c} {m}" for c, m in zip(p.common * 4, p.mid, strict=False)],
        "phrase": [f'"{x}"' for x in p.phrases],
        "exclusion": [f"{m} -{c}" for m, c in zip(p.mid, p.common * 4, strict=False)],
        "from": [f"from:@{authors[i % len(authors)]} {m}" for i, m in enumerate(p.mid)],
        "in": [f"in:#{channels[i % 10]} {c}" for i, c in enumerate(p.common * 2)],
        "substring": list(p.substrings),
        "cjk": list(p.cjk),
    }


async def _copy_corpus(dsn: str, corpus: Corpus, total: int, channels: list[int], authors: list[int]) -> None:
    rng = random.Random(9)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=365 * YEARS)
    step = dt.timedelta(days=365 * YEARS) / total
    seqs = dict.fromkeys(channels, 0)
    rows = []
    for i in range(total):
        # half the traffic in a few busy channels (Pareto), the rest spread evenly
        ch = channels[min(int(rng.paretovariate(1.2)) - 1, len(channels) - 1)] if rng.random() < 0.5 else rng.choice(channels)
        seqs[ch] += 1
        rows.append((ch, seqs[ch], rng.choice(authors), os.urandom(16), corpus.body(i, total), start + step * i))
    conn = await asyncpg.connect(dsn, timeout=60)
    try:
        # Indexed in bulk below, not row by row as sends are.
        await conn.execute("ALTER TABLE messages DISABLE TRIGGER messages_search_insert")
        try:
            await conn.copy_records_to_table(
                "messages", records=rows, columns=["channel_id", "seq", "user_id", "cid", "body", "created_at"])
        finally:
            await conn.execute("ALTER TABLE messages ENABLE TRIGGER messages_search_insert")
        await conn.executemany("UPDATE channels SET last_seq = $2 WHERE id = $1", list(seqs.items()))
    finally:
        await conn.close()


async def index_in_bulk(dsn: str, channels: list[int], parts: int = 2) -> None:
    """Index the messages of ``channels`` with chatd's SQL, ``parts`` connections in parallel."""
    conn = await asyncpg.connect(dsn, timeout=60)
    lo, hi = await conn.fetchrow("SELECT min(id), max(id) FROM messages WHERE channel_id = ANY($1::bigint[])", channels)
    await conn.execute("ALTER INDEX message_search_tsv_idx SET (fastupdate = on)")

    async def part(a: int, b: int) -> None:
        c = await asyncpg.connect(dsn, timeout=60)
        try:
            await c.execute("SET gin_pending_list_limit = '64MB'")
            await c.execute(
                """INSERT INTO message_search (id, channel_id, user_id, created_at, tsv)
                   SELECT id, channel_id, user_id, created_at, chatd_search_vector(body) FROM messages
                   WHERE id >= $1 AND id < $2 AND channel_id = ANY($3::bigint[])""", a, b, channels)
        finally:
            await c.close()

    try:
        edges = [lo + (hi + 1 - lo) * k // parts for k in range(parts + 1)]
        await asyncio.gather(*(part(edges[k], edges[k + 1]) for k in range(parts)))
        await conn.execute("SELECT gin_clean_pending_list('message_search_tsv_idx')")
        await conn.execute(
            """INSERT INTO search_words (word)
               SELECT DISTINCT w FROM message_search s, unnest(tsvector_to_array(s.tsv)) AS w
               WHERE s.channel_id = ANY($1::bigint[]) AND char_length(w) >= 3 AND left(w, 1) <> ' '
               ON CONFLICT DO NOTHING""", channels)
    finally:
        await conn.execute("ALTER INDEX message_search_tsv_idx SET (fastupdate = off)")
        await conn.execute("ANALYZE messages")
        await conn.execute("ANALYZE message_search")
        await conn.execute("ANALYZE search_words")
        await conn.close()


def _build_corpus(ctx: Ctx, tag: str, total: int) -> dict[str, Any]:
    async def people(conn: Any) -> dict[str, Any]:
        authors = await seed.create_users(conn, tag + "a", AUTHORS)
        channels = await seed.create_channels(conn, tag + "s", CHANNELS)
        await conn.execute("UPDATE channels SET private = true WHERE id = ANY($1::bigint[])", channels[-PRIVATE:])
        names = await conn.fetch("SELECT id, name FROM channels WHERE id = ANY($1::bigint[])", channels)
        by_id = {r["id"]: r["name"] for r in names}
        return {"authors": [u.id for u in authors], "author_names": [u.name for u in authors],
                "channels": channels, "channel_names": [by_id[c] for c in channels]}

    made: dict[str, Any] = ctx.db(people)
    corpus = Corpus()
    t0 = time.monotonic()
    asyncio.run(_copy_corpus(ctx.dsn, corpus, total, made["channels"], made["authors"]))
    ctx.log(f"    corpus of {total:,} messages written in {time.monotonic() - t0:.1f} s; indexing …")
    t1 = time.monotonic()
    asyncio.run(index_in_bulk(ctx.dsn, made["channels"]))
    ctx.log(f"    indexed in {time.monotonic() - t1:.1f} s")
    made["corpus"] = corpus
    return made


def s9(ctx: Ctx) -> dict[str, Any]:
    sid = "S9"
    total = ctx.p(sid, "messages")
    n = ctx.p(sid, "requests")
    warm = ctx.p(sid, "warmup")
    made = ctx.cache.get(("S9", total))
    if made is None:
        ctx.log(f"    seeding {total:,} messages of realistic text …")
        made = _build_corpus(ctx, ctx.tag(sid), total)
        ctx.cache[("S9", total)] = made
    tag = ctx.tag(sid)

    async def searcher(conn: Any) -> seed.BenchUser:
        [user] = await seed.create_users(conn, tag, 1)
        visible = made["channels"][:-PRIVATE]
        await seed.add_members(conn, [(ch, user.id) for ch in visible])
        return user

    user: seed.BenchUser = ctx.db(searcher)
    visible = made["channels"][:-PRIVATE]
    ctx.fresh_server()
    ctx.setup([{"key": 0, "token": user.token, "channels": [], "auto_reconnect": True, "receiver": False}])
    conn = ctx.connect(60)
    classes = queries(made["corpus"], made["author_names"], made["channel_names"])
    owner = ctx.fleet.owner(0)
    errors: list[str] = []
    counters = {"errors": 0, "leaks": 0, "empty": 0}
    win = Window(ctx.sampler)
    win.start()
    for order, prefix in (("relevance", "rel"), ("newest", "new")):
        for name, qs in classes.items():
            reqs = [{"q": qs[i % len(qs)], "order": order} for i in range(n + warm)]
            args: list[dict[str, Any] | None] = [None] * ctx.fleet.n
            args[owner] = {"key": 0, "requests": reqs, "label": f"{prefix}:{name}", "warmup": warm,
                           "allowed": visible}
            r = ctx.fleet.call("search", args, 600)[0]
            for k in counters:
                counters[k] += r[k]
    res = win.stop()
    rep = ctx.report({})
    rep.pop("sent_log")
    if counters["errors"]:
        errors.append(f"{counters['errors']} searches failed")
    if counters["leaks"]:
        errors.append(f"{counters['leaks']} results from channels the searcher may not read")
    metrics: dict[str, Any] = {"stored_messages": total}
    for name in classes:
        for prefix in ("rel", "new"):
            s = summarize(rep["history_ms"].get(f"{prefix}:{name}", []))
            metrics[f"{prefix}_{name}_p50_ms"] = s["p50"]
            metrics[f"{prefix}_{name}_p95_ms"] = s["p95"]
            metrics[f"{prefix}_{name}_p99_ms"] = s["p99"]
    corr = {"lost": 0, "duplicated": 0, "out_of_order": 0, "unacked_sends": 0,
            "detail": {"leaks": counters["leaks"], "empty_results": counters["empty"]}}
    return {"metrics": metrics, "correctness": corr, "resources": res, "errors": errors,
            "info": {"connect": conn, "empty_results": counters["empty"], **info_of(rep)}}
