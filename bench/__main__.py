"""``python -m bench run``: start chatd, run the scenarios, print the table, write the JSON.

Run from the repository root with the project's virtualenv::

    .venv/bin/python -m bench run                       # S1–S10, 3 runs, medians
    .venv/bin/python -m bench run --quick --runs 1      # about a minute, small counts
    .venv/bin/python -m bench run --scenarios S1,S4 --runs 5
    .venv/bin/python -m bench run --scenarios S3 --runs 1 --profile bench/results/prof

Exit status: 0 when every scenario run delivered everything exactly once and in order (speed
misses do not change it; they are in the table); 1 when any run lost, doubled or reordered a
message or failed; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.fleet import Fleet
from bench.longrun import LONG_RUNS  # also adds S11 and S12 to the scenario tables
from bench.procstat import Sampler, loadavg
from bench.profile import Profiler
from bench.report import machine_info, scenario_ok, summarize_scenario, table, write_json
from bench.scenarios import SCENARIOS, TITLES, Ctx
from bench.server import REPO_ROOT, ChatdServer, raise_nofile_limit
from bench.uploads import CHATD_TOML as S10_CHATD_TOML

RESULTS_DIR = REPO_ROOT / "bench" / "results"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description="chatd's load and latency benchmark.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run scenarios and report medians against the targets")
    p.add_argument("--scenarios", default=",".join(s for s in SCENARIOS if s not in LONG_RUNS),
                   help="comma-separated ids (default: all but the long runs S11, S12: S1..S10)")
    p.add_argument("--runs", type=int, default=3, help="runs per scenario; the table shows medians (default 3)")
    p.add_argument("--quick", action="store_true", help="small counts, about a minute (smoke test)")
    p.add_argument("--procs", type=int, default=4, help="load-generator processes (default 4)")
    p.add_argument("--out", type=Path, help="JSON result file (default bench/results/bench-<time>.json)")
    p.add_argument("--url", help="use an already running chatd (https://127.0.0.1:PORT) instead of starting one")
    p.add_argument("--database-url", help="with --url: its PostgreSQL, for seeding (e.g. postgresql://chatd@/chatd?host=DIR)")
    p.add_argument("--server-pid", type=int, help="with --url: the chatd pid, to record its CPU and memory")
    p.add_argument("--no-tls", action="store_true", help="run chatd with --no-tls (plain ws://), to see TLS's share")
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory and chatd logs")
    p.add_argument("--profile", type=Path, metavar="DIR",
                   help="record chatd with py-spy during each scenario into DIR (adds CPU load: not for the "
                        "medians)")
    return parser


def _terminate_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def cmd_run(args: argparse.Namespace) -> int:
    scenario_ids = [s.strip().upper() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenario_ids if s not in SCENARIOS]
    if unknown or args.runs < 1 or args.procs < 1:
        print(f"unknown scenarios {unknown} (known: {', '.join(SCENARIOS)})" if unknown else "runs and procs must be ≥ 1",
              file=sys.stderr)
        return 2
    if args.url and not args.database_url:
        print("--url needs --database-url (the bench creates its users and channels in SQL)", file=sys.stderr)
        return 2
    _terminate_on_sigterm()
    nofile = raise_nofile_limit()
    started = datetime.now(UTC)
    out_path: Path = args.out or RESULTS_DIR / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}{'-quick' if args.quick else ''}.json"
    tmp = Path(tempfile.mkdtemp(prefix="chatd-bench-"))
    os.chmod(tmp, 0o755)  # the embedded PostgreSQL runs as an unprivileged account when we are root
    server: ChatdServer | None = None
    fleet: Fleet | None = None
    sampler = Sampler()
    profiler = Profiler(args.profile) if args.profile else None
    doc: dict[str, Any] = {
        "meta": {
            "started": started.isoformat(timespec="seconds"),
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "machine": machine_info(),
            "rlimit_nofile": nofile,
            "loadavg_start": loadavg(),
            "tls": not args.no_tls,
        },
        "scenarios": {},
        "summary": {},
    }
    all_ok = True
    try:
        if args.url:
            parts = urlsplit(args.url)
            host, port = parts.hostname or "127.0.0.1", parts.port or 443
            tls = parts.scheme == "https"
            dsn = args.database_url
            sampler.server_pid = args.server_pid
        else:
            server = ChatdServer(data_dir=tmp / "data", log_dir=tmp, tls=not args.no_tls)
            (tmp / "data").mkdir(mode=0o700)
            (tmp / "data" / "chatd.toml").write_text(S10_CHATD_TOML)  # 1 GiB files for S10
            log(f"starting chatd (embedded PostgreSQL) in {tmp} …")
            server.start()
            log(f"chatd is up at {server.url} (first start {server.t_accepting - server.t_spawn:.1f} s)")
            host, port, tls, dsn = server.host, server.port, server.tls, server.dsn()
            sampler.server_pid = server.pid
        fleet = Fleet(args.procs)
        sampler.worker_pids = fleet.pids
        sampler.start()
        ctx = Ctx(fleet=fleet, sampler=sampler, server=server, host=host, port=port, tls=tls, dsn=dsn,
                  quick=args.quick, run=0, log=log)
        if profiler is not None:
            ctx.on_server_start = profiler.attach
        for run in range(1, args.runs + 1):
            ctx.run = run
            for sid in scenario_ids:
                log(f"[run {run}/{args.runs}] {sid}: {TITLES[sid]}")
                result = run_one(ctx, sid, profiler)
                doc["scenarios"].setdefault(sid, []).append(result)
                ok = scenario_ok(result)
                all_ok &= ok
                log("    " + one_line(result))
                doc["summary"] = {s: summarize_scenario(s, runs) for s, runs in doc["scenarios"].items()}
                write_json(out_path, _clean(doc))
        doc["meta"]["loadavg_end"] = loadavg()
        doc["meta"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        write_json(out_path, _clean(doc))
        print()
        print(table(doc["summary"], args.quick))
        print(f"\nJSON: {out_path}")
        if profiler is not None:
            print(f"profiles: {args.profile}")
        return 0 if all_ok else 1
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        doc["meta"]["interrupted"] = True
        with contextlib.suppress(Exception):
            write_json(out_path, _clean(doc))
        return 130
    finally:
        if profiler is not None:
            profiler.detach()
        if fleet is not None:
            fleet.close()
        sampler.stop()
        if server is not None:
            server.kill()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_one(ctx: Ctx, sid: str, profiler: Any) -> dict[str, Any]:
    t0 = time.monotonic()
    la0 = loadavg()
    if profiler is not None:
        profiler.label = f"{sid}-run{ctx.run}"
    try:
        result = SCENARIOS[sid](ctx)
    except Exception:
        result = {"errors": [traceback.format_exc()]}
        log(traceback.format_exc())
    # Not in a ``finally``: on Ctrl-C the runner's cleanup terminates the workers instead of
    # waiting for them to close their sockets politely.
    try:
        ctx.close_clients()
    except Exception as exc:
        log(f"    (closing clients failed: {exc})")
    if profiler is not None:
        result_profile = profiler.detach()
        if result_profile:
            log(f"    profile: {result_profile}")
    result.update({"id": sid, "run": ctx.run, "seconds": time.monotonic() - t0, "loadavg_start": la0,
                   "loadavg_end": loadavg()})
    return result


def one_line(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f"skipped: {result['skipped']}"
    parts = []
    for k, v in (result.get("metrics") or {}).items():
        if isinstance(v, float):
            parts.append(f"{k}={v:.3g}")
        elif v is not None:
            parts.append(f"{k}={v}")
    c = result.get("correctness") or {}
    parts.append(f"lost/dup/order={c.get('lost', '?')}/{c.get('duplicated', '?')}/{c.get('out_of_order', '?')}")
    r = result.get("resources") or {}
    if r:
        parts.append(f"chatd={r['chatd_cpu_pct']:.0f}% pg={r['pg_cpu_pct']:.0f}% gen={r['loadgen_cpu_pct']:.0f}% "
                     f"others={r['others_cpu_pct']:.0f}%")
    errors = result.get("errors") or []
    if errors:
        parts.append("ERRORS: " + " | ".join(e.strip().splitlines()[-1] for e in errors))
    return " ".join(parts)


def _clean(o: Any) -> Any:
    """NaN → None (strict JSON); arrays dropped from the document (they are summarized)."""
    if isinstance(o, float):
        return None if math.isnan(o) or math.isinf(o) else o
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items() if not hasattr(v, "typecode")}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    return o


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return cmd_run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
