"""Idle footprint of the embedded default: chatd's RSS plus its PostgreSQL's, with no clients.

    .venv/bin/python -m bench.footprint [--settle 20] [--runs 3]

Starts ``chatd serve`` on a fresh temporary data directory (initdb, migrations, self-signed
certificate), waits until it answers, lets it settle for ``--settle`` seconds (the pool's idle
connections and PostgreSQL's background workers all started), then reads /proc: chatd's RSS and
PSS, and for every PostgreSQL process (the postmaster and its children) RSS and PSS. Summed RSS
counts PostgreSQL's shared memory once per process that touched it, so it overstates; summed PSS
shares each page among its users and is the honest total. Prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.procstat import children_of, read_pss_kb, read_status_kb
from bench.server import ChatdServer


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pg" / "postmaster.pid").read_text().splitlines()[0])


def measure(settle_secs: float) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="chatd-footprint-"))
    root.chmod(0o711)  # as root, the PostgreSQL account must pass through
    server = ChatdServer(data_dir=root / "data", log_dir=root)
    try:
        server.start()
        time.sleep(settle_secs)
        assert server.pid is not None
        postmaster = _postmaster_pid(server.data_dir)
        pg = [postmaster, *children_of(postmaster)]
        mb = 1 / 1024
        return {
            "chatd_rss_mb": (read_status_kb(server.pid, "VmRSS") or 0) * mb,
            "chatd_pss_mb": read_pss_kb(server.pid) * mb,
            "pg_processes": len(pg),
            "pg_rss_mb": sum(read_status_kb(p, "VmRSS") or 0 for p in pg) * mb,
            "pg_pss_mb": sum(read_pss_kb(p) for p in pg) * mb,
        }
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.footprint", description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=20.0, help="seconds idle before reading (default 20)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for i in range(args.runs):
        r = measure(args.settle)
        runs.append(r)
        print(f"run {i + 1}: chatd RSS {r['chatd_rss_mb']:.1f} MB (PSS {r['chatd_pss_mb']:.1f}), "
              f"PostgreSQL {r['pg_processes']:.0f} processes RSS {r['pg_rss_mb']:.1f} MB (PSS {r['pg_pss_mb']:.1f}); "
              f"together RSS {r['chatd_rss_mb'] + r['pg_rss_mb']:.1f} MB, PSS {r['chatd_pss_mb'] + r['pg_pss_mb']:.1f} MB",
              flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median: chatd RSS {med['chatd_rss_mb']:.1f} MB + PostgreSQL RSS {med['pg_rss_mb']:.1f} MB = "
          f"{med['chatd_rss_mb'] + med['pg_rss_mb']:.1f} MB (PSS {med['chatd_pss_mb'] + med['pg_pss_mb']:.1f} MB)")


if __name__ == "__main__":
    main()
