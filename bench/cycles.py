"""The worker side of S11: connect / hello / close cycles, as fast as the server takes them.

Each cycle opens a WebSocket (TLS handshake and upgrade), says ``hello`` with a token, waits for
the answer (the server subscribes the connection, answers and marks the user online), then closes
with a full close handshake and waits for the server's close. ``parallel`` cycles run at once in
one worker; a failed cycle is counted by its kind and the loop goes on.
"""

from __future__ import annotations

import ssl
import time
from collections import Counter
from typing import Any

import trio

from bench.loadgen import decode_sequence
from bench.wsclient import HandshakeError, WsClosed, WsConnection
from chatd.wire import encode_client_frame

CYCLE_TIMEOUT_SECS = 30.0  # one cycle's ceiling: a stuck handshake fails the cycle, not the run


def _hello_answered(messages: list[bytes | str]) -> str | None:
    """The op of hello's reply (``ok``/``error``) if one of ``messages`` holds it."""
    frames: list[dict[str, Any]] = []
    for data in messages:
        if isinstance(data, bytes):
            decode_sequence(data, frames)
    for f in frames:
        if f.get("rid") == 1 and f.get("op") in ("ok", "error"):
            return str(f["op"])
    return None


async def one_cycle(host: str, port: int, ssl_context: ssl.SSLContext | None, token: str) -> tuple[str, int]:
    """Connect, hello, close; returns (hello's reply op, the server's close code)."""
    ws = await WsConnection.connect(host, port, ssl_context)
    try:
        await ws.send(encode_client_frame({"op": "hello", "rid": 1, "v": 1, "token": token}))
        answer = None
        while answer is None:
            answer = _hello_answered(await ws.receive())
    except BaseException:
        await trio.aclose_forcefully(ws._stream)
        raise
    return answer, await ws.close_and_wait()


async def run_cycles(
    host: str, port: int, ssl_context: ssl.SSLContext | None, tokens: list[str], count: int, parallel: int,
) -> dict[str, Any]:
    """``count`` cycles, ``parallel`` at a time, tokens used round-robin."""
    t0 = time.monotonic()
    started = 0
    done = 0
    failures: Counter[str] = Counter()
    closes: Counter[int] = Counter()

    async def loop() -> None:
        nonlocal started, done
        while started < count:
            token = tokens[started % len(tokens)]
            started += 1
            try:
                with trio.fail_after(CYCLE_TIMEOUT_SECS):
                    answer, code = await one_cycle(host, port, ssl_context, token)
            except (OSError, HandshakeError, WsClosed, trio.TooSlowError, trio.BrokenResourceError) as exc:
                failures[type(exc).__name__] += 1
                continue
            if answer != "ok":
                failures[f"hello_{answer}"] += 1
            closes[code] += 1
            done += 1

    async with trio.open_nursery() as nursery:
        for _ in range(parallel):
            nursery.start_soon(loop)
    return {"cycles": done, "failures": dict(failures), "closes": dict(closes), "seconds": time.monotonic() - t0}
