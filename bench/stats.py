"""Small pure helpers: percentiles, medians, merging the workers' reports (no I/O)."""

from __future__ import annotations

import math
import statistics
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of already sorted values, nearest-rank; NaN if empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def summarize(values: Iterable[float]) -> dict[str, float]:
    """Count, p50, p90, p95, p99, max and mean of ``values`` (milliseconds or seconds)."""
    xs = sorted(values)
    return {
        "n": len(xs),
        "p50": percentile(xs, 50),
        "p90": percentile(xs, 90),
        "p95": percentile(xs, 95),
        "p99": percentile(xs, 99),
        "max": xs[-1] if xs else math.nan,
        "mean": statistics.fmean(xs) if xs else math.nan,
    }


def median(values: Iterable[float]) -> float:
    xs = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(xs) if xs else math.nan


def floats(blobs: Iterable[bytes]) -> array[float]:
    """Concatenate the workers' ``array('d').tobytes()`` blobs."""
    out = array("d")
    for b in blobs:
        out.frombytes(b)
    return out


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the workers' ``report`` replies; latency blobs become arrays."""
    out: dict[str, Any] = {}
    for key in ("lost", "duplicated", "out_of_order", "delivered", "measured_delivered", "reconnects",
                "resyncs", "backfilled", "text_frames", "bad_frames", "ws_messages", "live", "cpu_s"):
        out[key] = sum(r[key] for r in reports)
    firsts = [r["first_delivery"] for r in reports if r["first_delivery"]]
    out["first_delivery"] = min(firsts) if firsts else 0.0
    out["last_delivery"] = max((r["last_delivery"] for r in reports), default=0.0)
    out["delivery_ms"] = floats(r["delivery_ms"] for r in reports)
    out["ack_ms"] = floats(r["ack_ms"] for r in reports)
    labels = {k for r in reports for k in r["history_ms"]}
    out["history_ms"] = {k: floats(r["history_ms"].get(k, b"") for r in reports) for k in labels}
    out["missed_by_gave_up"] = sum(r["missed_by_gave_up"] for r in reports)
    for key in ("closes", "errors", "connect_failures", "gave_up"):
        c: Counter[Any] = Counter()
        for r in reports:
            c.update(r[key])
        out[key] = dict(c)
    out["sent_log"] = [x for r in reports for x in r["sent_log"]]
    return out
