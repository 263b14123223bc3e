"""The scenarios S1–S8 of issue 6, S9 of issue 11 (search, in bench/search.py) and S10 of issue
12 (files, in bench/uploads.py), each a function of a ``Ctx`` returning a result dict.

Every scenario: creates its own users, sessions and channels in the database (fresh names per
run, so runs never share state), gets a freshly started chatd (so CPU and peak RSS belong to the
scenario), connects its clients, runs a bounded load, waits (bounded) until every client holds
every committed message, and checks correctness three ways: the clients' own tracking (lost,
duplicated, out of order), the database (dense seqs, no body stored twice, every ack stored), and
the sends (every logical message acked in the end). Any of them above zero fails the scenario,
whatever its speed.
"""

from __future__ import annotations

import math
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import seed
from bench.fleet import Fleet
from bench.procstat import Sample, Sampler
from bench.server import ChatdServer
from bench.stats import merge_reports, summarize


@dataclass(frozen=True)
class Target:
    """A goal from issue 6: ``metric`` must be ``op`` ``value``."""

    metric: str
    op: str  # ">=" or "<="
    value: float
    label: str
    unit: str

    def met(self, measured: float | None) -> bool:
        if measured is None or math.isnan(measured):
            return False
        return measured >= self.value if self.op == ">=" else measured <= self.value

    def ratio(self, measured: float | None) -> float:
        """measured / target (>= targets are met at ≥ 1, <= targets at ≤ 1)."""
        if measured is None or math.isnan(measured) or self.value == 0:
            return math.nan
        return measured / self.value


TARGETS: dict[str, list[Target]] = {
    "S1": [Target("acked_per_s", ">=", 500, "acked sends/s", "/s"),
           Target("ack_p50_ms", "<=", 2, "ack p50", "ms")],
    "S2": [Target("acked_per_s", ">=", 1500, "acked sends/s", "/s"),
           Target("ack_p99_ms", "<=", 50, "ack p99", "ms")],
    "S3": [Target("deliveries_per_s", ">=", 40000, "deliveries/s", "/s"),
           Target("delivery_p99_ms", "<=", 250, "send→receive p99", "ms")],
    "S4": [Target("delivery_p50_ms", "<=", 5, "send→receive p50", "ms"),
           Target("delivery_p99_ms", "<=", 20, "send→receive p99", "ms")],
    "S5": [Target("held", ">=", 10000, "connections held", ""),
           Target("kib_per_conn", "<=", 24, "server memory per connection", "KiB"),
           Target("idle_chatd_cpu_pct", "<=", 10, "chatd CPU while idle", "%")],
    "S6": [Target("latest_p50_ms", "<=", 3, "latest page p50", "ms"),
           Target("latest_p99_ms", "<=", 10, "latest page p99", "ms"),
           Target("deep_p50_ms", "<=", 3, "deep page p50", "ms"),
           Target("deep_p99_ms", "<=", 10, "deep page p99", "ms")],
    "S7": [Target("catch_up_s", "<=", 5, "storm → all caught up", "s")],
    "S8": [Target("accepting_s", "<=", 1, "start → accepting", "s"),
           Target("caught_up_s", "<=", 5, "start → all caught up", "s")],
    # Issue 11: every query class of a search (best-match order, the default) at 1M messages.
    "S9": [Target(f"rel_{name}_{p}_ms", "<=", goal, f"search {label} {p}", "ms")
           for name, label in (("common", "common word"), ("mid", "mid word"), ("rare", "rare word"),
                               ("rare_old", "rare, all old"), ("and", "two words"), ("phrase", "phrase"),
                               ("exclusion", "exclusion"), ("from", "from:"), ("in", "in:"),
                               ("substring", "substring"), ("cjk", "2-char CJK"))
           for p, goal in (("p95", 50), ("p99", 150))],
    "S10": [Target("ratio_single", ">=", 0.7, "upload ÷ discard rate, single", ""),
            Target("ratio_parallel", ">=", 0.7, "upload ÷ discard rate, 8 parallel", ""),
            Target("big_upload_rss_growth_mib", "<=", 20, "RSS growth during the big upload", "MiB"),
            Target("thumb_12mp_ms", "<=", 250, "thumbnail of a 12 MP JPEG", "ms"),
            Target("thumb_12mp_peak_mib", "<=", 64, "its peak memory", "MiB")],
}

TITLES = {
    "S1": "one sender, sequential sends",
    "S2": "100 senders across 10 channels",
    "S3": "fan-out: 1,000 connections, channels of 100, steady send rate",
    "S4": "light load: 100 receivers in one channel, 2 msg/s",
    "S5": "connections held idle",
    "S6": "history page (50) at 1,000,000 stored messages, latest and deep",
    "S7": "reconnect storm: drop all 1,000 connections, all resume",
    "S8": "restart: SIGTERM, start again",
    "S9": "search at 1,000,000 messages of realistic text, each query class",
    "S10": "file uploads over TLS: throughput vs the discard route, 1 GiB memory, thumbnails",
}

# Sizes: (full, quick). Full sizes are the issue's; quick keeps each scenario's shape, small.
PARAMS: dict[str, dict[str, tuple[Any, Any]]] = {
    "S1": {"count": (5000, 300), "duration": (15.0, 2.0), "warmup_sends": (200, 30)},
    "S2": {"channels": (10, 4), "per_channel": (10, 5), "count": (400, 60), "duration": (15.0, 2.0),
           "warmup": (2.0, 0.5)},
    "S3": {"channels": (10, 4), "per_channel": (100, 50), "senders_per_channel": (10, 5),
           "rate_per_sender": (4.0, 2.0), "duration": (20.0, 3.0), "warmup": (3.0, 1.0)},
    "S4": {"receivers": (100, 20), "rate": (2.0, 2.0), "duration": (30.0, 4.0), "warmup": (2.0, 1.0)},
    "S5": {"connections": (10000, 200), "channel_size": (100, 100), "hold": (30.0, 1.0)},
    "S6": {"messages": (1_000_000, 20_000), "requests": (300, 40), "warmup": (30, 5)},
    "S7": {"channels": (10, 3), "per_channel": (100, 20), "missed": (50, 20), "live_rate": (5.0, 5.0),
           "live_secs": (8.0, 2.0)},
    "S8": {"channels": (10, 3), "per_channel": (100, 20), "live_rate": (5.0, 5.0), "live_secs": (15.0, 4.0),
           "term_after": (3.0, 1.0)},
    "S9": {"messages": (1_000_000, 20_000), "requests": (200, 20), "warmup": (20, 5)},
    "S10": {"single_mib": (256, 32), "parallel_mib": (64, 4), "repeats": (2, 1), "big_mib": (1024, 64)},
}

CONNECT_CONCURRENCY = 16  # handshakes in flight per worker: chatd's listen backlog is 100
S5_CONNECT_CONCURRENCY = 8
# An overloaded server gets this long to deliver (and ack) what it accepted before an undelivered
# message counts as lost: a late delivery is slow, not lost. Bounded, so every run ends.
DRAIN_SECS = (300.0, 60.0)


@dataclass
class Ctx:
    """What a scenario runs against."""

    fleet: Fleet
    sampler: Sampler
    server: ChatdServer | None
    host: str
    port: int
    tls: bool
    dsn: str
    quick: bool
    run: int
    log: Callable[[str], None]
    cache: dict[Any, Any] = field(default_factory=dict)
    on_server_start: Callable[[int], None] | None = None  # e.g. attach a profiler to the new pid

    def p(self, sid: str, name: str) -> Any:
        full, quick = PARAMS[sid][name]
        return quick if self.quick else full

    @property
    def drain_secs(self) -> float:
        return DRAIN_SECS[1] if self.quick else DRAIN_SECS[0]

    def tag(self, sid: str) -> str:
        return f"{sid.lower()}r{self.run}{secrets.token_hex(3)}"

    def db(self, fn: Callable[..., Any]) -> Any:
        return seed.run_db(self.dsn, fn)

    def fresh_server(self) -> None:
        """Restart chatd so that the scenario's CPU and peak RSS are its own.

        Not in --quick mode: a stop takes ~10 s once a WebSocket has been open (Hypercorn's
        per-socket ping task sleeps through the close), which would triple the quick run.
        """
        if self.server is None or (self.quick and self.server.pid is not None):
            return
        self.sampler.server_pid = None
        self.server.stop()
        self.server.start()
        self.server_started()

    def server_started(self) -> None:
        assert self.server is not None
        self.sampler.server_pid = self.server.pid
        if self.on_server_start is not None and self.server.pid is not None:
            self.on_server_start(self.server.pid)

    # --- fleet helpers ---

    def per_worker(self, items: list[dict[str, Any]], key: str = "key") -> list[list[dict[str, Any]]]:
        out: list[list[dict[str, Any]]] = [[] for _ in range(self.fleet.n)]
        for it in items:
            out[self.fleet.owner(it[key])].append(it)
        return out

    def setup(self, conns: list[dict[str, Any]], **policy: Any) -> None:
        groups = self.per_worker(conns)
        self.fleet.call(
            "setup",
            [{"conns": g, "host": self.host, "port": self.port, "tls": self.tls, **policy} for g in groups],
            60,
        )

    def connect(self, within_secs: float, concurrency: int = CONNECT_CONCURRENCY) -> dict[str, Any]:
        replies = self.fleet.call_all("connect", within_secs + 30, concurrency=concurrency,
                                      within_secs=within_secs)
        failures: dict[str, int] = {}
        for r in replies:
            for k, v in r["failures"].items():
                failures[k] = failures.get(k, 0) + v
        return {
            "live": sum(r["live"] for r in replies),
            "failed": sum(r["failed"] for r in replies),
            "failures": failures,
            "seconds": max(r["seconds"] for r in replies),
        }

    def submit_send(self, senders: list[dict[str, Any]], start_at: float) -> tuple[int, list[int]]:
        groups = self.per_worker(senders)
        args: list[dict[str, Any] | None] = [
            {"senders": g, "start_at": start_at} if g else None for g in groups
        ]
        ticket = self.fleet.submit("send", args)
        return ticket, [i for i, a in enumerate(args) if a is not None]

    def collect_send(self, ticket: tuple[int, list[int]], within_secs: float) -> dict[str, Any]:
        replies = self.fleet.collect(ticket[0], ticket[1], within_secs)
        out: dict[str, Any] = {k: sum(r[k] for r in replies) for k in ("sent", "acked", "acked_measured",
                                                                       "failed", "retried")}
        out["first_send"] = min((r["first_send"] for r in replies if r["first_send"]), default=0.0)
        out["last_send"] = max((r["last_send"] for r in replies), default=0.0)
        out["last_ack"] = max((r["last_ack"] for r in replies), default=0.0)
        out["behind_max_ms"] = max((s["behind_max_ms"] for r in replies for s in r["senders"]), default=0.0)
        return out

    def send(self, senders: list[dict[str, Any]], start_in: float = 0.2, within_secs: float = 120) -> dict[str, Any]:
        return self.collect_send(self.submit_send(senders, time.monotonic() + start_in), within_secs)

    def last_seqs(self, channels: list[int]) -> dict[int, int]:
        result: dict[int, int] = self.db(lambda c: seed.channel_last_seqs(c, channels))
        return result

    def wait_delivered(self, channels: list[int], within_secs: float) -> dict[str, Any]:
        final = self.last_seqs(channels)
        replies = self.fleet.call_all("wait_delivered", within_secs + 30, final=final, within_secs=within_secs)
        return {"final": final, "complete": all(r["complete"] for r in replies),
                "behind": sum(r["behind"] for r in replies)}

    def report(self, final: dict[int, int]) -> dict[str, Any]:
        return merge_reports(self.fleet.call_all("report", 120, final=final))

    def close_clients(self) -> None:
        self.fleet.call_all("close", 90)


@dataclass
class Population:
    users: list[seed.BenchUser]
    channels: list[int]
    receivers: list[tuple[int, int]]  # (key, channel)
    senders: list[tuple[int, int]]  # (key, channel): extra members that do not get dropped

    def specs(self, auto_reconnect: bool = True) -> list[dict[str, Any]]:
        out = []
        sender_keys = {k for k, _ in self.senders}
        for key, ch in self.receivers + self.senders:
            out.append({"key": key, "token": self.users[key].token, "channels": [ch],
                        "auto_reconnect": auto_reconnect, "receiver": key not in sender_keys})
        return out


def make_population(ctx: Ctx, tag: str, channel_sizes: list[int], senders_per_channel: int = 0) -> Population:
    """Users (one connection each), channels of the given sizes, and optional extra senders."""
    total = sum(channel_sizes) + senders_per_channel * len(channel_sizes)

    async def build(conn: Any) -> Population:
        users = await seed.create_users(conn, tag, total)
        channels = await seed.create_channels(conn, tag, len(channel_sizes))
        receivers: list[tuple[int, int]] = []
        senders: list[tuple[int, int]] = []
        key = 0
        for ch, size in zip(channels, channel_sizes, strict=True):
            receivers.extend((k, ch) for k in range(key, key + size))
            key += size
        for ch in channels:
            senders.extend((k, ch) for k in range(key, key + senders_per_channel))
            key += senders_per_channel
        await seed.add_members(conn, [(ch, users[k].id) for k, ch in receivers + senders])
        return Population(users, channels, receivers, senders)

    result: Population = ctx.db(build)
    return result


def sender_spec(key: int, ch: int, *, count: int, duration: float, rate: float | None = None,
                warmup: float = 0.0, grace: float = 30.0, window: int = 64, offset: float = 0.0) -> dict[str, Any]:
    return {"key": key, "ch": ch, "count": count, "duration": duration, "rate": rate, "warmup": warmup,
            "grace": grace, "window": window, "offset": offset}


class Window:
    """Resource use between ``start()`` and ``stop()`` (server CPU/RSS, PostgreSQL, load generator)."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler
        self.s0: Sample | None = None
        self.s1: Sample | None = None

    def start(self) -> None:
        self.s0 = self.sampler.sample()

    def stop(self) -> dict[str, float]:
        self.s1 = self.sampler.sample()
        assert self.s0 is not None
        return self.sampler.between(self.s0, self.s1)


def correctness(rep: dict[str, Any], store: dict[str, Any] | None, sends: list[dict[str, Any]]) -> dict[str, Any]:
    """Lost / duplicated / out-of-order, from the clients, the database and the sends."""
    store = store or {"gaps": 0, "duplicated_rows": 0, "acked_missing": 0, "acked_twice": 0, "stored": 0}
    unacked = sum(s["failed"] for s in sends)
    return {
        "lost": rep["lost"] + store["gaps"] + store["acked_missing"],
        "duplicated": rep["duplicated"] + store["duplicated_rows"] + store["acked_twice"],
        "out_of_order": rep["out_of_order"],
        "unacked_sends": unacked,
        "detail": {
            "client_lost": rep["lost"], "client_duplicated": rep["duplicated"],
            "client_out_of_order": rep["out_of_order"], "store_gaps": store["gaps"],
            "store_duplicated_rows": store["duplicated_rows"], "acked_missing": store["acked_missing"],
            "acked_twice": store["acked_twice"], "stored": store["stored"],
        },
    }


def finish(ctx: Ctx, channels: list[int], sends: list[dict[str, Any]], within_secs: float,
           errors: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Wait for delivery, collect the reports, verify the store. Returns (report, correctness)."""
    waited = ctx.wait_delivered(channels, within_secs)
    if not waited["complete"]:
        errors.append(f"{waited['behind']} clients did not receive everything within {within_secs:.0f} s")
    rep = ctx.report(waited["final"])
    acked = rep.pop("sent_log")
    store = ctx.db(lambda c: seed.verify_store(c, channels, acked))
    corr = correctness(rep, store, sends)
    if rep["gave_up"]:
        errors.append(f"clients turned away for good: {rep['gave_up']} (they missed {rep['missed_by_gave_up']} "
                      "messages after that)")
    if corr["unacked_sends"]:
        errors.append(f"{corr['unacked_sends']} sends were never acked")
    if rep["text_frames"] or rep["bad_frames"]:
        errors.append(f"{rep['text_frames']} text frames and {rep['bad_frames']} undecodable frames received")
    return rep, corr


def info_of(rep: dict[str, Any]) -> dict[str, Any]:
    return {k: rep[k] for k in ("delivered", "ws_messages", "reconnects", "resyncs", "backfilled", "closes", "errors",
                                "connect_failures", "gave_up", "missed_by_gave_up")}


# --- S1 ---------------------------------------------------------------------------------------


def s1(ctx: Ctx) -> dict[str, Any]:
    sid = "S1"
    tag = ctx.tag(sid)
    pop = make_population(ctx, tag, [1])
    ctx.fresh_server()
    ctx.setup(pop.specs())
    conn = ctx.connect(60)
    errors: list[str] = []
    key, ch = pop.receivers[0]
    warm = ctx.p(sid, "warmup_sends")
    ctx.send([sender_spec(key, ch, count=warm, duration=30)])  # warm-up, not measured
    ctx.report({})  # drop the warm-up samples
    win = Window(ctx.sampler)
    win.start()
    t_start = time.monotonic() + 0.2
    sent = ctx.send([sender_spec(key, ch, count=ctx.p(sid, "count"), duration=ctx.p(sid, "duration"))], 0.2)
    res = win.stop()
    rep, corr = finish(ctx, pop.channels, [sent], ctx.drain_secs, errors)
    ack = summarize(rep["ack_ms"])
    elapsed = sent["last_ack"] - t_start
    metrics = {
        "acked_per_s": sent["acked_measured"] / elapsed if elapsed > 0 else math.nan,
        "ack_p50_ms": ack["p50"], "ack_p99_ms": ack["p99"], "ack_max_ms": ack["max"],
        "acked": sent["acked_measured"],
        "chatd_cpu_ms_per_send": 1000 * res["chatd_cpu_s"] / max(1, sent["acked"]),
    }
    return {"metrics": metrics, "correctness": corr, "resources": res, "errors": errors,
            "info": {"connect": conn, **info_of(rep)}}


# --- S2 ---------------------------------------------------------------------------------------


def s2(ctx: Ctx) -> dict[str, Any]:
    sid = "S2"
    tag = ctx.tag(sid)
    nch, per = ctx.p(sid, "channels"), ctx.p(sid, "per_channel")
    pop = make_population(ctx, tag, [per] * nch)
    ctx.fresh_server()
    ctx.setup(pop.specs())
    conn = ctx.connect(60)
    errors: list[str] = []
    warmup = ctx.p(sid, "warmup")
    duration = ctx.p(sid, "duration")
    specs = [sender_spec(k, ch, count=ctx.p(sid, "count"), duration=duration, warmup=warmup)
             for k, ch in pop.receivers]
    win = Window(ctx.sampler)
    win.start()
    start_at = time.monotonic() + 0.3
    sent = ctx.collect_send(ctx.submit_send(specs, start_at), duration + 90)
    res = win.stop()
    rep, corr = finish(ctx, pop.channels, [sent], ctx.drain_secs, errors)
    ack = summarize(rep["ack_ms"])
    elapsed = sent["last_ack"] - (start_at + warmup)
    metrics = {
        "acked_per_s": sent["acked_measured"] / elapsed if elapsed > 0 else math.nan,
        "ack_p50_ms": ack["p50"], "ack_p99_ms": ack["p99"], "ack_max_ms": ack["max"],
        "acked": sent["acked_measured"],
        "deliveries_per_s": rep["delivered"] / max(1e-9, sent["last_ack"] - start_at),
        "chatd_cpu_ms_per_send": 1000 * res["chatd_cpu_s"] / max(1, sent["acked"]),
    }
    return {"metrics": metrics, "correctness": corr, "resources": res, "errors": errors,
            "info": {"connect": conn, "senders": len(specs), **info_of(rep)}}


# --- S3 / S4: steady-rate fan-out ---------------------------------------------------------------


def _fan_out(ctx: Ctx, sid: str, channel_sizes: list[int], senders_per_channel: int, rate_per_sender: float,
             duration: float, warmup: float) -> dict[str, Any]:
    tag = ctx.tag(sid)
    pop = make_population(ctx, tag, channel_sizes)
    ctx.fresh_server()
    ctx.setup(pop.specs())
    conn = ctx.connect(180)
    errors: list[str] = []
    if conn["failed"]:
        errors.append(f"{conn['failed']} connections failed: {conn['failures']}")
    by_channel: dict[int, list[int]] = {}
    for k, ch in pop.receivers:
        by_channel.setdefault(ch, []).append(k)
    specs = []
    for ch, keys in by_channel.items():
        for i, k in enumerate(keys[:senders_per_channel]):
            # Spread the senders' ticks evenly over the interval: a steady rate, not bursts.
            offset = i / (senders_per_channel * rate_per_sender) + random.random() * 0.01
            specs.append(sender_spec(k, ch, count=int(rate_per_sender * duration) + 1, duration=duration,
                                     rate=rate_per_sender, warmup=warmup, offset=offset, window=256,
                                     grace=ctx.drain_secs))
    win = Window(ctx.sampler)
    win.start()
    start_at = time.monotonic() + 0.5
    sent = ctx.collect_send(ctx.submit_send(specs, start_at), duration + ctx.drain_secs + 60)
    rep, corr = finish(ctx, pop.channels, [sent], ctx.drain_secs, errors)
    res = win.stop()
    lat = summarize(rep["delivery_ms"])
    t0 = start_at + warmup
    span = rep["last_delivery"] - t0
    members = sum(channel_sizes) / len(channel_sizes)
    offered = len(specs) * rate_per_sender * members
    metrics = {
        "deliveries_per_s": rep["measured_delivered"] / span if span > 0 else math.nan,
        "offered_deliveries_per_s": offered,
        "delivery_p50_ms": lat["p50"], "delivery_p99_ms": lat["p99"], "delivery_max_ms": lat["max"],
        "measured_deliveries": rep["measured_delivered"],
        "sender_behind_max_ms": sent["behind_max_ms"],
        # Server CPU per message delivered to one connection (sends, commits and acks included).
        "chatd_cpu_us_per_delivery": 1e6 * res["chatd_cpu_s"] / max(1, rep["delivered"]),
        "loadgen_cpu_us_per_delivery": 1e6 * res["loadgen_cpu_s"] / max(1, rep["delivered"]),
    }
    return {"metrics": metrics, "correctness": corr, "resources": res, "errors": errors,
            "info": {"connect": conn, "senders": len(specs), "sent": sent["sent"], **info_of(rep)}}


def s3(ctx: Ctx) -> dict[str, Any]:
    sid = "S3"
    return _fan_out(ctx, sid, [ctx.p(sid, "per_channel")] * ctx.p(sid, "channels"),
                    ctx.p(sid, "senders_per_channel"), ctx.p(sid, "rate_per_sender"), ctx.p(sid, "duration"),
                    ctx.p(sid, "warmup"))


def s4(ctx: Ctx) -> dict[str, Any]:
    sid = "S4"
    return _fan_out(ctx, sid, [ctx.p(sid, "receivers")], 1, ctx.p(sid, "rate"), ctx.p(sid, "duration"),
                    ctx.p(sid, "warmup"))


# --- S5 ---------------------------------------------------------------------------------------


def s5(ctx: Ctx) -> dict[str, Any]:
    sid = "S5"
    tag = ctx.tag(sid)
    n = ctx.p(sid, "connections")
    size = ctx.p(sid, "channel_size")
    sizes = [size] * (n // size) + ([n % size] if n % size else [])
    pop = make_population(ctx, tag, sizes)
    ctx.fresh_server()
    errors: list[str] = []
    ctx.setup(pop.specs(auto_reconnect=False), connect_deadline_secs=60.0)
    win = Window(ctx.sampler)
    win.start()
    rss0 = win.s0.chatd_rss_kb if win.s0 else 0
    # Fewer hellos in flight than elsewhere: S5 measures holding, S7 measures storms.
    conn = ctx.connect(600, concurrency=S5_CONNECT_CONCURRENCY)
    t_connected = time.monotonic()
    hold = ctx.p(sid, "hold")
    time.sleep(hold)
    pings = ctx.fleet.call_all("ping_all", 120, within_secs=60)
    held = sum(r["alive"] for r in pings)
    after = ctx.sampler.sample()
    res = win.stop()
    rep = ctx.report({})
    rep.pop("sent_log")
    corr = correctness(rep, None, [])
    if held < n:
        errors.append(f"held {held} of {n} connections (connect failures: {conn['failures']})")
    metrics = {
        "held": held,
        "kib_per_conn": (after.chatd_rss_kb - rss0) / held if held else math.nan,
        "connect_s": conn["seconds"],
        "connects_per_s": conn["live"] / conn["seconds"] if conn["seconds"] else math.nan,
        "rss_before_mib": rss0 / 1024,
        "rss_after_mib": after.chatd_rss_kb / 1024,
        "idle_chatd_cpu_pct": None,
    }
    idle_s = after.t - t_connected
    if idle_s > 0 and win.s0 is not None:
        # CPU while merely holding (pings, session checks), over the hold period only.
        before_hold = next((s for s in ctx.sampler.samples if s.t >= t_connected), after)
        metrics["idle_chatd_cpu_pct"] = 100 * (after.chatd_cpu - before_hold.chatd_cpu) / max(1e-9, after.t - before_hold.t)
    return {"metrics": metrics, "correctness": corr, "resources": res, "errors": errors,
            "info": {"connect": conn, "nofile_note": "RLIMIT_NOFILE raised by the runner", **info_of(rep)}}


# --- S6 ---------------------------------------------------------------------------------------


def s6(ctx: Ctx) -> dict[str, Any]:
    sid = "S6"
    total = ctx.p(sid, "messages")
    tag = ctx.tag(sid)
    pop = make_population(ctx, tag, [1])
    big = ctx.cache.get(("S6", total))
    if big is None:
        ctx.log(f"    seeding {total:,} messages with generate_series …")
        t0 = time.monotonic()

        async def make(conn: Any) -> int:
            authors = await seed.create_users(conn, tag + "a", 20)
            [ch] = await seed.create_channels(conn, tag + "big", 1)
            await seed.seed_messages(conn, ch, [u.id for u in authors], total)
            return ch

        big = ctx.db(make)
        ctx.cache[("S6", total)] = big
        ctx.log(f"    seeded in {time.monotonic() - t0:.1f} s")
    ctx.db(lambda c: seed.add_members(c, [(big, pop.users[0].id)]))
    pop.receivers = [(0, big)]
    ctx.fresh_server()
    ctx.setup(pop.specs())
    conn = ctx.connect(60)
    errors: list[str] = []
    n = ctx.p(sid, "requests")
    warm = ctx.p(sid, "warmup")
    rng = random.Random(ctx.run)
    deep = [rng.randint(51, int(total * 0.9)) for _ in range(n + warm)]
    win = Window(ctx.sampler)
    win.start()
    owner = ctx.fleet.owner(0)
    args: list[dict[str, Any] | None] = [None] * ctx.fleet.n
    args[owner] = {"key": 0, "ch": big, "befores": [None] * (n + warm), "label": "latest", "warmup": warm}
    latest = ctx.fleet.call("history", args, 300)[0]
    args[owner] = {"key": 0, "ch": big, "befores": deep, "label": "deep", "warmup": warm}
    deep_r = ctx.fleet.call("history", args, 300)[0]
    res = win.stop()
    rep = ctx.report({})
    rep.pop("sent_log")
    corr = correctness(rep, None, [])
    bad = latest["bad_pages"] + deep_r["bad_pages"]
    errs = latest["errors"] + deep_r["errors"]
    if bad or errs:
        errors.append(f"{bad} wrong pages, {errs} failed requests")
    lat = summarize(rep["history_ms"].get("latest", []))
    dp = summarize(rep["history_ms"].get("deep", []))
    metrics = {
        "latest_p50_ms": lat["p50"], "latest_p99_ms": lat["p99"],
        "deep_p50_ms": dp["p50"], "deep_p99_ms": dp["p99"],
        "stored_messages": total, "requests": lat["n"] + dp["n"],
    }
    return {"metrics": metrics, "correctness": corr, "resources": res, "errors": errors,
            "info": {"connect": conn, **info_of(rep)}}


# --- S7 ---------------------------------------------------------------------------------------


def _live_senders(pop: Population, rate: float, secs: float, grace: float) -> list[dict[str, Any]]:
    return [sender_spec(k, ch, count=int(rate * secs) + 1, duration=secs, rate=rate, warmup=0.0, grace=grace,
                        offset=random.random() / rate)
            for k, ch in pop.senders]


def s7(ctx: Ctx) -> dict[str, Any]:
    sid = "S7"
    tag = ctx.tag(sid)
    nch, per = ctx.p(sid, "channels"), ctx.p(sid, "per_channel")
    pop = make_population(ctx, tag, [per] * nch, senders_per_channel=1)
    ctx.fresh_server()
    ctx.setup(pop.specs(), reconnect_deadline_secs=60.0, reconnect_delay_secs=0.2)
    conn = ctx.connect(180)
    errors: list[str] = []
    sends = [ctx.send([sender_spec(k, ch, count=10, duration=30) for k, ch in pop.senders])]
    ctx.wait_delivered(pop.channels, 60)
    win = Window(ctx.sampler)
    win.start()
    dropped = sum(r["dropped"] for r in ctx.fleet.call_all("drop", 60))
    missed = ctx.p(sid, "missed")
    sends.append(ctx.send([sender_spec(k, ch, count=missed, duration=60) for k, ch in pop.senders]))
    live = ctx.submit_send(_live_senders(pop, ctx.p(sid, "live_rate"), ctx.p(sid, "live_secs"), ctx.drain_secs),
                           time.monotonic() + 0.1)
    at = time.monotonic() + 0.3
    storm = ctx.fleet.call_all("reconnect", 150, at=at, within_secs=120)
    sends.append(ctx.collect_send(live, ctx.drain_secs + 120))
    rep, corr = finish(ctx, pop.channels, sends, ctx.drain_secs, errors)
    res = win.stop()
    times = [t for r in storm for t in r["times"]]
    caught = sum(r["caught_up"] for r in storm)
    if caught < dropped:
        errors.append(f"only {caught} of {dropped} clients caught up")
    t = summarize(times)
    metrics = {
        "catch_up_s": t["max"] if caught == dropped else math.nan,
        "catch_up_p50_s": t["p50"], "catch_up_p99_s": t["p99"],
        "clients": dropped, "caught_up": caught, "missed_per_channel": missed,
    }
    return {"metrics": metrics, "correctness": corr, "resources": res, "errors": errors,
            "info": {"connect": conn, **info_of(rep)}}


# --- S8 ---------------------------------------------------------------------------------------


def s8(ctx: Ctx) -> dict[str, Any]:
    sid = "S8"
    if ctx.server is None:
        return {"skipped": "S8 restarts the server: not possible with --url"}
    tag = ctx.tag(sid)
    nch, per = ctx.p(sid, "channels"), ctx.p(sid, "per_channel")
    pop = make_population(ctx, tag, [per] * nch, senders_per_channel=1)
    ctx.fresh_server()
    ctx.setup(pop.specs(), reconnect_deadline_secs=90.0, reconnect_delay_secs=0.2)
    conn = ctx.connect(180)
    errors: list[str] = []
    sends = [ctx.send([sender_spec(k, ch, count=10, duration=30) for k, ch in pop.senders])]
    ctx.wait_delivered(pop.channels, 60)
    win = Window(ctx.sampler)
    win.start()
    live = ctx.submit_send(_live_senders(pop, ctx.p(sid, "live_rate"), ctx.p(sid, "live_secs"), ctx.drain_secs),
                           time.monotonic() + 0.1)
    time.sleep(ctx.p(sid, "term_after"))
    server = ctx.server
    t_term = time.monotonic()
    ctx.sampler.sample()
    ctx.sampler.server_pid = None
    shutdown_s = server.stop()
    server.start()
    ctx.server_started()
    t_spawn = server.t_spawn
    caught = ctx.fleet.call_all("wait_caught_up", 150, since=t_spawn, within_secs=120)
    sends.append(ctx.collect_send(live, ctx.drain_secs + 120))
    rep, corr = finish(ctx, pop.channels, sends, ctx.drain_secs, errors)
    res = win.stop()
    times = [t for r in caught for t in r["times"]]
    n_caught = sum(r["caught_up"] for r in caught)
    n_clients = sum(r["clients"] for r in caught)
    if n_caught < n_clients:
        errors.append(f"only {n_caught} of {n_clients} clients caught up")
    t = summarize(times)
    metrics = {
        "accepting_s": server.t_accepting - t_spawn,
        "banner_s": (server.t_banner - t_spawn) if server.t_banner else math.nan,
        "caught_up_s": t["max"] if n_caught == n_clients else math.nan,
        "caught_up_p50_s": t["p50"],
        "shutdown_s": shutdown_s,
        "term_to_caught_up_s": (t_spawn + t["max"] - t_term) if times else math.nan,
        "clients": n_clients,
        "retried_sends": sum(s["retried"] for s in sends),
    }
    return {"metrics": metrics, "correctness": corr, "resources": res, "errors": errors,
            "info": {"connect": conn, **info_of(rep)}}


def s9(ctx: Ctx) -> dict[str, Any]:
    from bench.search import s9 as run  # its own module (imports this one)

    return run(ctx)


def s10(ctx: Ctx) -> dict[str, Any]:
    from bench.uploads import run_s10  # it uses this module's Window

    return run_s10(ctx)


SCENARIOS: dict[str, Callable[[Ctx], dict[str, Any]]] = {
    "S1": s1, "S2": s2, "S3": s3, "S4": s4, "S5": s5, "S6": s6, "S7": s7, "S8": s8, "S9": s9, "S10": s10,
}
