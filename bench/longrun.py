"""The long-running scenarios of issue 16: S11 (connection churn) and S12 (soak).

They measure what a server that runs for months needs: that memory, file descriptors, tasks and
database connections stay flat while clients come and go. They are not in the default set (S11
takes ~15 minutes, S12 ~10): name them, ``--scenarios S11,S12``. Importing this module adds them to
the tables of ``bench.scenarios``.
"""

from __future__ import annotations

import math
from typing import Any

from bench.scenarios import (
    PARAMS,
    SCENARIOS,
    TARGETS,
    TITLES,
    Ctx,
    Target,
    Window,
    correctness,
    make_population,
)

LONG_RUNS = ("S11", "S12")

TARGETS.update({
    "S11": [Target("rss_growth_mib", "<=", 5, "RSS growth over the cycles after warm-up", "MiB")],
})
TITLES.update({
    "S11": "churn: 100,000 connect / hello / close cycles",
})
PARAMS.update({
    # cycles after the warm-up; warm-up cycles (the allocator's and caches' steady state); cycles
    # in flight per load-generator worker; users whose tokens the cycles take in turn; RSS points.
    "S11": {"cycles": (100_000, 3_000), "warmup": (10_000, 1_000), "parallel": (8, 4), "users": (100, 20),
            "points": (20, 3)},
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
    replies = ctx.fleet.call("churn", args, 3600)
    failures: dict[str, int] = {}
    closes: dict[int, int] = {}
    for r in replies:
        for k, v in r["failures"].items():
            failures[k] = failures.get(k, 0) + v
        for code, v in r["closes"].items():
            closes[int(code)] = closes.get(int(code), 0) + v
    return {"cycles": sum(r["cycles"] for r in replies), "failures": failures, "closes": closes,
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
    failures: dict[str, int] = {}
    closes: dict[int, int] = {}
    for r in runs:
        for k, v in r["failures"].items():
            failures[k] = failures.get(k, 0) + v
        for code, v in r["closes"].items():
            closes[code] = closes.get(code, 0) + v
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


SCENARIOS.update({"S11": s11})
