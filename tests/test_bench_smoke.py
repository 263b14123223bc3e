"""The benchmark's quick mode runs end to end: a real chatd, real WebSockets, nothing lost.

This checks that ``python -m bench run`` works (starts chatd on the embedded default, drives it
from worker processes, writes its JSON) and that its correctness counters are zero. It asserts
no speed at all: speed targets live in the benchmark and docs/performance.md, never in a timed
unit test on a shared machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("S1", "S4")


@pytest.mark.slow
def test_quick_benchmark_delivers_everything_once_in_order(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--quick", "--runs", "1", "--procs", "2",
         "--scenarios", ",".join(SCENARIOS), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    doc = json.loads(out.read_text())
    assert doc["meta"]["machine"]["nproc"] >= 1
    for sid in SCENARIOS:
        [run] = doc["scenarios"][sid]
        assert run["errors"] == [], run["errors"]
        corr = run["correctness"]
        assert (corr["lost"], corr["duplicated"], corr["out_of_order"], corr["unacked_sends"]) == (0, 0, 0, 0)
        assert corr["detail"]["stored"] > 0  # messages really went through the server
        assert run["resources"]["chatd_cpu_s"] > 0  # the server's /proc was read
        assert doc["summary"][sid]["passed_correctness"] is True
    assert doc["scenarios"]["S1"][0]["metrics"]["acked"] > 0
    s4 = doc["scenarios"]["S4"][0]["metrics"]
    assert s4["measured_deliveries"] > 0
    assert s4["delivery_p50_ms"] > 0


def test_bench_refuses_unknown_scenarios() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--scenarios", "S99"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "S99" in proc.stderr


# --- the load generator's own bookkeeping (pure, fast) -------------------------------------------


def test_track_counts_lost_duplicated_and_out_of_order() -> None:
    from bench.loadgen import Track

    t = Track(start=10)
    for seq in (11, 12, 12, 15, 13, 9, 16):  # 12 twice; 14 never; 13 late; 9 was held already
        t.add(seq)
    assert (t.dups, t.ooo) == (2, 1)
    assert t.lost(final=18) == 1 + 2  # 14, and 17..18 never arrived
    assert t.distinct == 5


def test_track_in_order_stream_is_clean() -> None:
    from bench.loadgen import Track

    t = Track(start=0)
    for seq in range(1, 101):
        t.add(seq)
    assert (t.dups, t.ooo, t.lost(100), t.distinct) == (0, 0, 0, 100)


def test_ws_parser_handles_fragments_pings_and_close() -> None:
    import trio.testing

    from bench.wsclient import WsConnection, encode_frame

    def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
        n = len(payload)
        head = bytes(((0x80 if fin else 0) | opcode,)) + (
            bytes((n,)) if n < 126 else bytes((126,)) + n.to_bytes(2, "big")
        )
        return head + payload

    conn = WsConnection(trio.testing.MemoryReceiveStream())  # type: ignore[arg-type]
    big = b"x" * 300
    conn._buf += (server_frame(0x2, b"a", fin=False) + server_frame(0x0, b"b") + server_frame(0x9, b"p")
                  + server_frame(0x2, big) + server_frame(0x8, (1001).to_bytes(2, "big") + b"bye")
                  + server_frame(0x2, b"after close"))
    out, pings, close = conn._parse()
    assert out == [b"ab", big]
    assert pings == [b"p"]
    assert close == (1001, "bye")
    # A client frame is masked: unmasking it gives the payload back.
    frame = encode_frame(0x2, b"hello")
    assert frame[1] == 0x80 | 5
    key, body = frame[2:6], frame[6:]
    assert bytes(b ^ key[i % 4] for i, b in enumerate(body)) == b"hello"


def test_percentile_is_nearest_rank() -> None:
    from bench.stats import percentile

    xs = [float(i) for i in range(1, 101)]
    assert (percentile(xs, 50), percentile(xs, 99), percentile(xs, 100)) == (50.0, 99.0, 100.0)
    assert percentile([], 50) != percentile([], 50)  # NaN for no samples


def test_server_messages_are_cbor_sequences() -> None:
    import cbor2

    from bench.loadgen import decode_sequence

    a, b = cbor2.dumps({"op": "msg", "seq": 1}), cbor2.dumps({"op": "ack", "rid": 2})
    out: list[dict[str, object]] = []
    assert decode_sequence(a + b, out) is True
    assert [f["op"] for f in out] == ["msg", "ack"]
    bad: list[dict[str, object]] = []
    assert decode_sequence(a + b[:-1], bad) is False  # a message ending inside an item
    assert decode_sequence(b"", []) is False
    assert decode_sequence(cbor2.dumps([1, 2]), []) is False  # not a frame


def test_profile_summary_gives_each_layers_share() -> None:
    from collections import Counter

    from bench.profile import summarize_raw

    stacks = Counter({
        "thread (1);run (trio/_core/_run.py:1);unrolled_run (trio/_core/_run.py:2);Outbound.write_all (chatd/gateway/outbound.py:3);send_all (trio/_ssl.py:4)": 3,
        "thread (1);run (trio/_core/_run.py:1);unrolled_run (trio/_core/_run.py:2);fetch (asyncpg/connection.py:5)": 1,
    })
    text = summarize_raw(stacks)
    assert "4 on-CPU samples" in text
    layers = text.split("layers")[1].split("self time")[0]
    assert "100.0%  trio scheduler (unrolled_run)" in layers
    assert " 75.0%  TLS (trio SSLStream, ssl)" in layers
    assert " 75.0%  gateway writer (Outbound.write_all)" in layers
    assert " 25.0%  asyncpg" in layers
    assert "Hypercorn" not in layers  # no sample passed through it
    assert " 75.0%  send_all (trio/_ssl.py)" in text.split("self time")[1].split("inclusive")[0]
