"""Uploads stream with bounded memory: 8 parallel uploads of 200 MiB (1.6 GiB) grow the server's
resident memory by less than 40 MiB.

The server runs in this process (the ``server`` fixture); the uploads come from a separate
process (bench/upload_client.py), so this process's peak resident size is the server's.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest
import trio

from chatd.config import Config
from tests.helpers.client import register
from tests.helpers.files import download
from tests.helpers.server import RunningServer

MiB = 1024 * 1024
PARALLEL, SIZE_MIB = 8, 200
MAX_GROWTH_MIB = 40
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server_config(server_config: Config) -> Config:
    return dataclasses.replace(server_config, files_max_bytes=SIZE_MIB * MiB, files_pending_max=PARALLEL,
                               files_reserve_bytes=0)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field)


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:  # "5": reset the peak resident size (VmHWM)
        f.write("5")


@pytest.mark.slow
async def test_eight_parallel_200_mib_uploads_stay_within_40_mib(server: RunningServer) -> None:
    alice = await register(server, "alice")
    with trio.fail_after(120):
        _reset_peak()
        before_kib = _status_kib("VmRSS")
        done = await trio.run_process(
            [sys.executable, "-m", "bench.upload_client", server.url, alice.token,
             "--parallel", str(PARALLEL), "--mib", str(SIZE_MIB)],
            capture_stdout=True, capture_stderr=True, cwd=ROOT, check=False,
        )
        growth_mib = (_status_kib("VmHWM") - before_kib) / 1024
        assert done.stdout, f"the upload client printed no report (exit {done.returncode}): {done.stderr.decode()[-2000:]}"
        report = json.loads(done.stdout)
        assert [status for status, _ in report["results"]] == [201] * PARALLEL, report["results"]
        assert all(f["size"] == SIZE_MIB * MiB for _, f in report["results"])
        assert growth_mib < MAX_GROWTH_MIB, f"server memory grew by {growth_mib:.1f} MiB"
        # Stored in full: one of them, read back, is the bytes that were sent.
        _, first = report["results"][0]
        resp = await download(server, alice, first["id"], headers={"Range": f"bytes={SIZE_MIB * MiB - 16}-"})
        assert len(resp.body) == 16
    assert len(list(server.state.files.blobs.scan("blobs"))) == PARALLEL
