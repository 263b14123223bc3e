"""The worker side of S12 (soak): the worker's clients live like people for a while.

Each client (already connected by ``connect``, tracking its home channel) runs three loops until
the end, each at a steady rate with jitter:

- **chat**: a message to its home channel (retried with the same cid across reconnects, acked
  ones recorded for the database check);
- **hop**: join one of the public "hop" channels, stay a while, leave it;
- **reconnect**: drop its connection — a TCP reset or a clean close, alternately — after which
  the client reconnects and resumes its home channel (``loadgen.Client.run``).

The runner checks, as for every scenario, that every client received every message of its home
channel exactly once and in order, and it samples the server meanwhile (bench/longrun.py).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import trio

from bench.loadgen import SendRec

if TYPE_CHECKING:
    from bench.loadgen import Client, Worker

GRACE_SECS = 120.0  # after the end, an unacked send keeps retrying this long before it counts as failed


async def run_soak(
    worker: Worker, duration: float, chat_every: float, hop_channels: list[int], hop_every: float,
    hop_stay: float, reconnect_every: float, seed: int,
) -> dict[str, Any]:
    """Run every client's loops for ``duration`` seconds; returns what they did."""
    rng = random.Random(seed)
    end = trio.current_time() + duration
    counts: Counter[str] = Counter()

    async def jittered(every: float) -> bool:
        """Sleep about ``every`` seconds; False once the soak is over."""
        await trio.sleep(min(every * (0.5 + rng.random()), max(0.0, end - trio.current_time())))
        return trio.current_time() < end

    async def chat(c: Client, ch: int) -> None:
        n = 0
        while await jittered(chat_every):
            n += 1
            rec = SendRec(ch, os.urandom(16), f"w{time.monotonic_ns():019d} soak {c.key}:{n}")
            counts["sent"] += 1
            if await c.post(rec, end + GRACE_SECS):
                counts["acked"] += 1
                worker.sent_log.append((ch, rec.seq, rec.cid))
            else:
                counts["failed"] += 1

    def tally(what: str, reply: dict[str, Any] | None) -> None:
        # No reply: the connection was dropped meanwhile (by the reconnect loop), not a refusal.
        counts[what if reply is not None and reply.get("op") == "ok" else
               f"{what}_interrupted" if reply is None else f"{what}_refused"] += 1

    async def hop(c: Client) -> None:
        while hop_channels and await jittered(hop_every):
            ch = rng.choice(hop_channels)
            joined = await c.request({"op": "channel.join", "ch": ch})
            tally("joins", joined)
            await trio.sleep(min(hop_stay, max(0.0, end - trio.current_time())))
            left = await c.request({"op": "channel.leave", "ch": ch})
            if joined is None and left is not None and left.get("code") == "not_member":
                left = None  # the interrupted join never took: nothing to leave
            tally("leaves", left)

    async def reconnect(c: Client) -> None:
        clean = rng.random() < 0.5
        while await jittered(reconnect_every):
            ws = c.ws
            if ws is None:
                continue
            if clean:
                await ws.aclose()
            else:
                await ws.abort()
            counts["drops_clean" if clean else "drops_reset"] += 1
            clean = not clean

    # HOOK (issue 12, files): once uploads exist, add an ``upload`` loop here — a small file
    # every ``upload_every`` seconds through the HTTPS upload API, then a ``send`` that links it —
    # and count its uploads and failures like the others. Nothing else in S12 needs to change.

    t0 = time.monotonic()
    async with trio.open_nursery() as nursery:
        for c in worker.clients.values():
            home = next(iter(c.tracks), None)
            if home is not None:
                nursery.start_soon(chat, c, home)
            nursery.start_soon(hop, c)
            nursery.start_soon(reconnect, c)
    return {**counts, "seconds": time.monotonic() - t0}
