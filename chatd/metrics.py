"""The daemon's counters and histograms, and the Prometheus text format (version 0.0.4).

Process-wide like Prometheus client libraries' default registry: each metric is a module-level
object that the code which counts it updates in O(1) (an int add; a histogram adds to one bucket).
Gauges (connections, pool use, disk free) are read at scrape time by the ``/metrics`` route from
the daemon's state, so they cost nothing between scrapes. A leaf module: no I/O, no imports of
chatd.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass
class Counter:
    name: str
    help: str
    value: float = 0

    def inc(self, n: float = 1) -> None:
        self.value += n

    def lines(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter", f"{self.name} {_num(self.value)}"]


@dataclass
class Histogram:
    """Cumulative buckets with upper bounds ``bounds`` (+Inf is added)."""

    name: str
    help: str
    bounds: Sequence[float]
    counts: list[int] = field(default_factory=list)
    sum: float = 0.0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        running = 0
        for bound, n in zip([*self.bounds, math.inf], self.counts, strict=True):
            running += n
            out.append(f'{self.name}_bucket{{le="{_num(bound)}"}} {running}')
        out += [f"{self.name}_sum {_num(self.sum)}", f"{self.name}_count {running}"]
        return out


@dataclass(frozen=True)
class Gauge:
    """A value read at scrape time."""

    name: str
    help: str
    value: float

    def lines(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge", f"{self.name} {_num(self.value)}"]


def _num(v: float) -> str:
    if v == math.inf:
        return "+Inf"
    return str(int(v)) if float(v).is_integer() else repr(float(v))


MESSAGES_SENT = Counter("chatd_messages_sent_total", "Messages committed from WebSocket sends (retries not counted).")
ACK_SECONDS = Histogram(
    "chatd_ack_latency_seconds", "Time from a send frame's arrival to its ack being queued (commit included).",
    # 1 ms to 5 s: a group commit takes a few ms here; seconds mean the database is struggling.
    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DELIVERIES = Counter("chatd_deliveries_total", "Message frames handed to subscribed connections.")
SLOW_CONSUMER_CLOSES = Counter(
    "chatd_slow_consumer_closes_total", "Connections closed with 4008 because their outbound queue was full.")
REPLAY_MESSAGES = Histogram(
    "chatd_replay_messages", "Messages replayed per channel on a resume (hello with resume).",
    (0, 1, 10, 50, 100, 250, 500, 1000),
)
RESYNCS = Counter("chatd_resyncs_total", "Resumes answered with resync (client too far behind, or ahead).")
# The file store counts its uploads here (it reads 0 until there is one).
UPLOADS = Counter("chatd_uploads_total", "Files uploaded and stored.")
UPLOAD_BYTES = Counter("chatd_upload_bytes_total", "Bytes of files uploaded and stored.")

REGISTRY: tuple[Counter | Histogram, ...] = (
    MESSAGES_SENT, ACK_SECONDS, DELIVERIES, SLOW_CONSUMER_CLOSES, REPLAY_MESSAGES, RESYNCS, UPLOADS, UPLOAD_BYTES,
)


def render(gauges: Iterable[Gauge]) -> str:
    """The exposition text: every registered metric, then ``gauges``."""
    lines: list[str] = []
    for metric in (*REGISTRY, *gauges):
        lines += metric.lines()
    return "\n".join(lines) + "\n"
