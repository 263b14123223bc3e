"""Medians over runs, verdicts against the targets, the human table and the JSON document."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.scenarios import TARGETS, TITLES
from bench.server import REPO_ROOT
from bench.stats import median

CORRECTNESS_KEYS = ("lost", "duplicated", "out_of_order")
RESOURCE_KEYS = ("chatd_cpu_pct", "chatd_peak_rss_mib", "pg_cpu_pct", "loadgen_cpu_pct", "others_cpu_pct",
                 "load1_max")


def machine_info() -> dict[str, Any]:
    """nproc, memory, CPU model, kernel, Python, and this checkout's commit."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "mem_total_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def scenario_ok(result: dict[str, Any]) -> bool:
    """A run passes its correctness bar: nothing lost, doubled or reordered, and no error."""
    if "skipped" in result:
        return True
    corr = result.get("correctness") or {}
    if any(corr.get(k, 1) != 0 for k in CORRECTNESS_KEYS):
        return False
    return not result.get("errors")


def summarize_scenario(sid: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of every metric and resource over the runs, and each target's verdict."""
    done = [r for r in runs if "metrics" in r]
    metrics: dict[str, float] = {}
    keys = {k for r in done for k in r["metrics"]}
    for k in sorted(keys):
        vals = [r["metrics"].get(k) for r in done]
        nums = [float(v) for v in vals if isinstance(v, int | float) and v is not None]
        metrics[k] = median(nums)
    resources = {k: median([r["resources"][k] for r in done if "resources" in r and k in r["resources"]])
                 for k in RESOURCE_KEYS}
    correctness = {k: sum((r.get("correctness") or {}).get(k, 0) for r in done) for k in CORRECTNESS_KEYS}
    verdicts = []
    for t in TARGETS[sid]:
        m = metrics.get(t.metric, math.nan)
        verdicts.append({
            "metric": t.metric, "label": t.label, "target": f"{t.op} {t.value:g}{(' ' + t.unit) if t.unit else ''}",
            "median": m, "ratio": t.ratio(m), "met": t.met(m),
            "runs": [r["metrics"].get(t.metric) for r in done],
        })
    return {
        "title": TITLES[sid],
        "runs": len(runs),
        "passed_correctness": all(scenario_ok(r) for r in runs),
        "skipped": all("skipped" in r for r in runs) if runs else False,
        "median": metrics,
        "resources_median": resources,
        "correctness_total": correctness,
        "targets": verdicts,
    }


def _fmt(v: Any, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, float):
        if abs(v) >= 1000:
            s = f"{v:,.0f}"
        elif abs(v) >= 100:
            s = f"{v:.0f}"
        elif abs(v) >= 10:
            s = f"{v:.1f}"
        else:
            s = f"{v:.2f}"
    else:
        s = f"{v:,}" if isinstance(v, int) else str(v)
    return s + unit


def table(summary: dict[str, dict[str, Any]], quick: bool) -> str:
    """The human table: one line per target, then resources and correctness per scenario."""
    lines = []
    head = f"{'':4} {'target':<32} {'goal':>12} {'median':>11} {'ratio':>7} {'':4} {'runs':<28}"
    lines.append(head)
    lines.append("-" * len(head))
    for sid, s in summary.items():
        if s["skipped"]:
            lines.append(f"{sid:4} skipped")
            continue
        for i, v in enumerate(s["targets"]):
            unit = ""
            for t in TARGETS[sid]:
                if t.metric == v["metric"]:
                    unit = t.unit
            verdict = "ok" if v["met"] else "MISS"
            runs = ", ".join(_fmt(x) for x in v["runs"])
            lines.append(
                f"{sid if i == 0 else '':4} {v['label']:<32} {v['target']:>12} {_fmt(v['median'], ' ' + unit if unit and unit != '/s' else unit):>11} "
                f"{_fmt(v['ratio']):>7} {verdict:4} {runs:<28}"
            )
        r = s["resources_median"]
        c = s["correctness_total"]
        bad = "" if s["passed_correctness"] else "   ** FAILED correctness/errors **"
        lines.append(
            f"{'':4}   lost/dup/order {c['lost']}/{c['duplicated']}/{c['out_of_order']}; chatd CPU "
            f"{_fmt(r['chatd_cpu_pct'])}%, peak RSS {_fmt(r['chatd_peak_rss_mib'])} MiB; PostgreSQL CPU "
            f"{_fmt(r['pg_cpu_pct'])}%; load generator CPU {_fmt(r['loadgen_cpu_pct'])}%; others "
            f"{_fmt(r['others_cpu_pct'])}%; load1 max {_fmt(r['load1_max'])}{bad}"
        )
    if quick:
        lines.append("(--quick: small counts; the numbers are not comparable with the targets)")
    lines.append("CPU % is of one core (200% = both cores of this machine).")
    return "\n".join(lines)


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=_json_default, allow_nan=True))
    tmp.replace(path)


def _json_default(o: Any) -> Any:
    if isinstance(o, bytes):
        return o.hex()
    if isinstance(o, set | tuple):
        return list(o)
    return str(o)
