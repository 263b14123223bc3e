"""The long-running scenarios of issue 16: S11 (connection churn) and S12 (soak).

They measure what a server that runs for months needs: that memory, file descriptors, tasks and
database connections stay flat while clients come and go. They are not in the default set (S11
takes ~15 minutes, S12 ~10): name them, ``--scenarios S11,S12``. Importing this module adds them to
the tables of ``bench.scenarios``.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections import Counter
from statistics import median
from typing import Any

from bench import seed
from bench.scenarios import (
    PARAMS,
    SCENARIOS,
    TARGETS,
    TITLES,
    Ctx,
    Target,
    Window,
    correctness,
    finish,
    info_of,
    make_population,
)

LONG_RUNS = ("S11", "S12")

TARGETS.update({
    "S11": [Target("rss_growth_mib", "<=", 5, "RSS growth over the cycles after warm-up", "MiB")],
    "S12": [Target("rss_growth_mib", "<=", 5, "RSS growth after warm-up", "MiB"),
            Target("fds_growth", "<=", 10, "open file descriptors, growth after warm-up", ""),
            Target("tasks_growth", "<=", 30, "Trio tasks, growth after warm-up", ""),
            Target("pg_connections_max", "<=", 11, "PostgreSQL connections (pool of 10 + LISTEN)", "")],
})
TITLES.update({
    "S11": "churn: 100,000 connect / hello / close cycles",
    "S12": "soak: 200 clients chat, join, leave and reconnect for 10 minutes",
})
PARAMS.update({
    # cycles after the warm-up; warm-up cycles (the allocator's and caches' steady state); cycles
    # in flight per load-generator worker; users whose tokens the cycles take in turn; RSS points.
    "S11": {"cycles": (100_000, 3_000), "warmup": (10_000, 1_000), "parallel": (8, 4), "users": (100, 20),
            "points": (20, 3)},
    # home channels × members (one client each); public channels to hop through; seconds of
    # soak, of it warm-up; per client: a message, a hop (and its stay), a reconnect, about every…
    "S12": {"channels": (10, 5), "per_channel": (20, 10), "hop_channels": (5, 3), "duration": (600.0, 60.0),
            "warmup": (120.0, 15.0), "chat_every": (10.0, 5.0), "hop_every": (60.0, 15.0),
            "hop_stay": (10.0, 3.0), "reconnect_every": (90.0, 20.0), "sample_every": (10.0, 5.0)},
})


# --- S11 --------------------------------------------------------------------------------------


def _churn(ctx: Ctx, tokens: list[str], count: int, parallel: int) -> dict[str, Any]:
    """``count`` cycles spread over the workers; summed replies."""
    n = ctx.fleet.n
    per = [count // n + (1 if i < count % n else 0) for i in range(n)]
    args: list[dict[str, Any] | None] = [
        {"tokens": tokens[i::n] or tokens, "count": c, "parallel": parallel} if c else None
        for i, c in enumerate(per)
    ]
    return _merged(ctx.fleet.call("churn", args, 3600))


def _merged(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """Cycle counts, failures and close codes of several replies together (seconds: the longest)."""
    failures: Counter[str] = Counter()
    closes: Counter[int] = Counter()
    for r in replies:
        failures.update(r["failures"])
        closes.update({int(code): n for code, n in r["closes"].items()})
    return {"cycles": sum(r["cycles"] for r in replies), "failures": dict(failures), "closes": dict(closes),
            "seconds": max(r["seconds"] for r in replies)}


def s11(ctx: Ctx) -> dict[str, Any]:
    sid = "S11"
    pop = make_population(ctx, ctx.tag(sid), [ctx.p(sid, "users")])
    tokens = [u.token for u in pop.users]
    ctx.fresh_server()
    ctx.setup([])  # the workers learn the server's address; the cycles make their own sockets
    parallel = ctx.p(sid, "parallel")
    errors: list[str] = []
    rss_start = ctx.sampler.sample().chatd_rss_kb
    warm = _churn(ctx, tokens, ctx.p(sid, "warmup"), parallel)
    win = Window(ctx.sampler)
    win.start()
    assert win.s0 is not None
    rss0 = win.s0.chatd_rss_kb
    total = ctx.p(sid, "cycles")
    points = ctx.p(sid, "points")
    curve: list[tuple[int, float]] = [(0, rss0 / 1024)]
    runs = [warm]
    done = 0
    for i in range(points):
        chunk = total * (i + 1) // points - total * i // points
        runs.append(_churn(ctx, tokens, chunk, parallel))
        done += runs[-1]["cycles"]
        curve.append((done, ctx.sampler.sample().chatd_rss_kb / 1024))
    res = win.stop()
    total_runs = _merged(runs)
    failures, closes = total_runs["failures"], total_runs["closes"]
    if failures:
        errors.append(f"failed cycles: {failures}")
    if set(closes) - {1000}:
        errors.append(f"unexpected close codes: {closes}")
    growth_mib = curve[-1][1] - curve[0][1]
    seconds = sum(r["seconds"] for r in runs[1:])
    metrics = {
        "rss_growth_mib": growth_mib if done else math.nan,
        "kib_per_1000_cycles": 1024 * growth_mib / done * 1000 if done else math.nan,
        "cycles": done,
        "cycles_per_s": done / seconds if seconds else math.nan,
        "rss_start_mib": rss_start / 1024,
        "rss_after_warmup_mib": rss0 / 1024,
        "rss_end_mib": curve[-1][1],
        "warmup_growth_mib": (rss0 - rss_start) / 1024,
    }
    return {"metrics": metrics, "correctness": correctness(_no_messages(), None, []), "resources": res,
            "errors": errors, "info": {"rss_curve_mib": curve, "closes": closes, "warmup_cycles": warm["cycles"]}}


def _no_messages() -> dict[str, Any]:
    return {"lost": 0, "duplicated": 0, "out_of_order": 0}


# --- S12 --------------------------------------------------------------------------------------


VITALS = re.compile(rb"event=server\.vitals rss_kb=(\d+) fds=(\d+) tasks=(\d+)")


def _tasks_from_log(ctx: Ctx) -> int | None:
    """The Trio task count of chatd's latest vitals line (bench/server.py asks for one every 10 s)."""
    path = ctx.server.log_path if ctx.server is not None else None
    if path is None:
        return None
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 65536))
            found = VITALS.findall(f.read())
    except OSError:
        return None
    return int(found[-1][2]) if found else None


def _pg_connections(ctx: Ctx) -> int:
    async def count(conn: Any) -> int:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return n

    result: int = ctx.db(count)
    return result


def _fds(pid: int | None) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd")) if pid is not None else None
    except OSError:
        return None


def _flat(points: list[float | None]) -> tuple[float, float]:
    """(last − first, max − first) of a series after warm-up, each end the median of 3 samples."""
    values = [p for p in points if p is not None]
    if len(values) < 2:
        return math.nan, math.nan
    first, last = median(values[:3]), median(values[-3:])
    return last - first, max(values) - first


def s12(ctx: Ctx) -> dict[str, Any]:
    sid = "S12"
    p = lambda name: ctx.p(sid, name)  # noqa: E731
    tag = ctx.tag(sid)
    pop = make_population(ctx, tag, [p("per_channel")] * p("channels"))
    hops: list[int] = ctx.db(lambda c: seed.create_channels(c, tag + "hop", p("hop_channels")))
    ctx.fresh_server()
    ctx.setup(pop.specs(), reconnect_deadline_secs=120.0, reconnect_delay_secs=0.5)
    conn = ctx.connect(180)
    errors: list[str] = []
    if conn["failed"]:
        errors.append(f"{conn['failed']} clients did not connect: {conn['failures']}")
    win = Window(ctx.sampler)
    win.start()
    duration = p("duration")
    ticket = ctx.fleet.submit("soak", [
        {"duration": duration, "chat_every": p("chat_every"), "hop_channels": hops, "hop_every": p("hop_every"),
         "hop_stay": p("hop_stay"), "reconnect_every": p("reconnect_every"), "seed": ctx.run * 100 + i}
        for i in range(ctx.fleet.n)
    ])
    t0 = time.monotonic()
    samples: list[dict[str, Any]] = []
    while True:
        s = ctx.sampler.sample()
        samples.append({"t": round(s.t - t0, 1), "rss_mib": s.chatd_rss_kb / 1024, "fds": _fds(ctx.sampler.server_pid),
                        "tasks": _tasks_from_log(ctx), "pg_connections": _pg_connections(ctx)})
        if s.t - t0 >= duration:
            break
        time.sleep(min(p("sample_every"), max(0.0, t0 + duration - time.monotonic())))
    soaked = ctx.fleet.collect(ticket, list(range(ctx.fleet.n)), 300)
    totals: dict[str, float] = {}
    for r in soaked:
        for k, v in r.items():
            totals[k] = totals.get(k, 0) + v
    sends = [{"failed": int(totals.get("failed", 0))}]
    rep, corr = finish(ctx, pop.channels, sends, ctx.drain_secs, errors)
    res = win.stop()
    steady = [x for x in samples if x["t"] >= p("warmup")]
    metrics: dict[str, Any] = {}
    for key, unit in (("rss_mib", "rss"), ("fds", "fds"), ("tasks", "tasks"), ("pg_connections", "pg_connections")):
        growth, peak = _flat([x[key] for x in steady])
        name = "rss" if unit == "rss" else unit
        metrics[f"{name}_growth{'_mib' if unit == 'rss' else ''}"] = growth
        metrics[f"{name}_peak_over_start{'_mib' if unit == 'rss' else ''}"] = peak
    metrics["pg_connections_max"] = max((x["pg_connections"] for x in samples), default=math.nan)
    metrics.update({"clients": len(pop.receivers), "sent": totals.get("sent", 0), "acked": totals.get("acked", 0),
                    "joins": totals.get("joins", 0), "leaves": totals.get("leaves", 0),
                    "reconnects": rep["reconnects"], "delivered": rep["delivered"]})
    if totals.get("joins_refused") or totals.get("leaves_refused"):
        errors.append(f"hops refused: {totals.get('joins_refused', 0)} joins, {totals.get('leaves_refused', 0)} leaves")
    return {"metrics": metrics, "correctness": corr, "resources": res, "errors": errors,
            "info": {"connect": conn, "samples": samples, "soak": totals, **info_of(rep)}}


SCENARIOS.update({"S11": s11, "S12": s12})
