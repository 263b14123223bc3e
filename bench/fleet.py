"""The runner's side of the load-generator processes: start them, send commands, collect replies.

Connections are spread over the workers by key: the client with key ``k`` lives in worker
``k % n``, so a command about one client (a sender, a history loop) goes to that worker only.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from bench.loadgen import worker_main


class FleetError(Exception):
    """A worker failed a command (its traceback is the message) or did not answer in time."""


class Fleet:
    """``n`` worker processes (spawned, daemonic: they die with the runner)."""

    def __init__(self, n: int) -> None:
        ctx = mp.get_context("spawn")
        self.n = n
        self._tickets = itertools.count(1)
        self._cmd: list[Connection] = []
        self._res: list[Connection] = []
        self._inbox: dict[tuple[int, int], tuple[str, Any]] = {}
        self.procs: list[Any] = []
        for i in range(n):
            cmd_r, cmd_w = ctx.Pipe(duplex=False)
            res_r, res_w = ctx.Pipe(duplex=False)
            p = ctx.Process(target=worker_main, args=(i, cmd_r, res_w), name=f"bench-worker-{i}", daemon=True)
            p.start()
            cmd_r.close()
            res_w.close()
            self._cmd.append(cmd_w)
            self._res.append(res_r)
            self.procs.append(p)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def owner(self, key: int) -> int:
        return key % self.n

    def submit(self, name: str, per_worker: list[dict[str, Any] | None]) -> int:
        """Send command ``name`` to each worker whose args are not None; returns the ticket."""
        ticket = next(self._tickets)
        for i, args in enumerate(per_worker):
            if args is not None:
                self._cmd[i].send((ticket, name, args))
        return ticket

    def submit_all(self, name: str, args: dict[str, Any] | None = None) -> tuple[int, list[int]]:
        return self.submit(name, [dict(args or {}) for _ in range(self.n)]), list(range(self.n))

    def collect(self, ticket: int, workers: list[int], within_secs: float) -> list[Any]:
        """The replies of ``workers`` to ``ticket``, in worker order; raises FleetError."""
        deadline = time.monotonic() + within_secs
        while not all((w, ticket) in self._inbox for w in workers):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = [w for w in workers if (w, ticket) not in self._inbox]
                raise FleetError(f"workers {missing} did not answer ticket {ticket} in {within_secs:.0f} s")
            for conn in wait(self._res, timeout=remaining):
                assert isinstance(conn, Connection)
                w = self._res.index(conn)
                try:
                    t, status, result = conn.recv()
                except EOFError:
                    raise FleetError(f"worker {w} exited (exit code {self.procs[w].exitcode})") from None
                self._inbox[(w, t)] = (status, result)
        out = []
        errors = []
        for w in workers:
            status, result = self._inbox.pop((w, ticket))
            if status != "ok":
                errors.append(f"worker {w}:\n{result}")
            out.append(result)
        if errors:
            raise FleetError("\n".join(errors))
        return out

    def call_all(self, name: str, reply_within: float, **args: Any) -> list[Any]:
        ticket, workers = self.submit_all(name, args)
        return self.collect(ticket, workers, reply_within)

    def call(self, name: str, per_worker: list[dict[str, Any] | None], reply_within: float) -> list[Any]:
        ticket = self.submit(name, per_worker)
        workers = [i for i, a in enumerate(per_worker) if a is not None]
        return self.collect(ticket, workers, reply_within)

    def close(self) -> None:
        """Ask the workers to exit; terminate (then kill) the ones that do not."""
        for conn in self._cmd:
            with contextlib.suppress(OSError, ValueError):
                conn.send((0, "exit", {}))
        deadline = time.monotonic() + 5
        for p in self.procs:
            p.join(max(0.1, deadline - time.monotonic()))
        for p in self.procs:
            if p.is_alive():
                p.terminate()
                p.join(3)
            if p.is_alive():
                p.kill()
                p.join(3)
        for conn in self._cmd + self._res:
            with contextlib.suppress(OSError):
                conn.close()
