"""Backup and restore times for a large database (the embedded default).

    .venv/bin/python -m bench.backup_restore [--messages 1000000] [--channels 10] [--users 100]

Starts ``chatd serve`` on a fresh temporary data directory, seeds users, channels and messages
with SQL (``bench.seed``), then times, as an operator runs them: ``chatd backup`` while chatd
serves, and ``chatd restore`` into a new data directory (pg_restore, migrations, verification
against the manifest). Prints the times, the archive's size and the peak RSS of each command.
Wall time on a shared 2-core machine: other work on it slows both (pg_dump and pg_restore are
mostly single-threaded CPU and disk).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.seed import add_members, create_channels, create_users, run_db, seed_messages
from bench.server import REPO_ROOT, ChatdServer


def _cli(*args: str) -> tuple[float, float, str]:
    """Run ``chatd ARGS``; returns (seconds, peak RSS of children in MB, output)."""
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "chatd.cli", *args], cwd=REPO_ROOT, capture_output=True, text=True)
    secs = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"chatd {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return secs, peak_mb, proc.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backup_restore", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--users", type=int, default=100)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="chatd-backup-bench-"))
    root.chmod(0o711)  # as root, the PostgreSQL account must pass through
    server = ChatdServer(data_dir=root / "data", log_dir=root)
    try:
        server.start()
        dsn = f"postgresql://chatd@/chatd?host={server.pg_socket_dir}&port=5432"
        per_channel = args.messages // args.channels

        async def seed(conn: object) -> None:
            users = await create_users(conn, "b", args.users)  # type: ignore[arg-type]
            channels = await create_channels(conn, "b", args.channels)  # type: ignore[arg-type]
            await add_members(conn, [(c, u.id) for c in channels for u in users])  # type: ignore[arg-type]
            for ch in channels:
                await seed_messages(conn, ch, [u.id for u in users], per_channel)  # type: ignore[arg-type]

        t0 = time.monotonic()
        run_db(dsn, seed)
        print(f"seeded {per_channel * args.channels} messages in {args.channels} channels "
              f"in {time.monotonic() - t0:.1f} s", flush=True)
        archive = root / "backup.tar"
        secs, peak, out = _cli("backup", "--data-dir", str(server.data_dir), "--out", str(archive))
        print(f"backup (chatd serving): {secs:.1f} s, archive {archive.stat().st_size / 1e6:.1f} MB, "
              f"peak RSS of the command {peak:.0f} MB\n  {out}", flush=True)
        server.stop()
        secs, peak, out = _cli("restore", str(archive), "--data-dir", str(root / "restored"))
        print(f"restore + migrate + verify: {secs:.1f} s, peak RSS of the command {peak:.0f} MB\n  {out}", flush=True)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
