"""Upload load for S10 and tests/test_files_memory.py: N parallel HTTPS POSTs of M MiB each.

    python -m bench.upload_client URL TOKEN --parallel 8 --mib 200 [--path /api/files]

One process, one thread per upload (``ssl`` releases the GIL while it encrypts and sends). The
body is made on the fly from one 1 MiB buffer, so the client holds no file in memory; each
upload differs in its first bytes, so content addressing cannot take a shortcut. Prints one JSON
line: wall seconds (first byte out → last answer in), bytes sent, MB/s (MiB/s), and each
upload's HTTP status and answer. Exit status 0 iff every upload got a 2xx.
"""

from __future__ import annotations

import argparse
import http.client
import json
import ssl
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

MiB = 1024 * 1024
_BLOCK = bytes(range(256)) * (MiB // 256)


def _context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the bench's and the tests' self-signed certificates
    return ctx


def upload_one(url: str, token: str, path: str, index: int, size_mib: int, out: list[Any]) -> None:
    """POST ``size_mib`` MiB to ``path``; appends (status, answer) to ``out``."""
    parts = urlsplit(url)
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=_context(), timeout=600)
    try:
        conn.putrequest("POST", f"{path}?name=upload-{index}.bin")
        conn.putheader("Authorization", f"Bearer {token}")
        conn.putheader("Content-Length", str(size_mib * MiB))
        conn.endheaders()
        first = index.to_bytes(8, "big")
        conn.send(first + _BLOCK[len(first):])
        for _ in range(size_mib - 1):
            conn.send(_BLOCK)
        resp = conn.getresponse()
        body = resp.read()
        out.append((resp.status, json.loads(body) if body.startswith(b"{") else body.decode(errors="replace")))
    except OSError as exc:
        out.append((0, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run(url: str, token: str, *, parallel: int, mib: int, path: str = "/api/files") -> dict[str, Any]:
    results: list[Any] = []
    threads = [threading.Thread(target=upload_one, args=(url, token, path, i, mib, results)) for i in range(parallel)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - started
    sent = parallel * mib * MiB
    return {"secs": secs, "bytes": sent, "mb_per_s": sent / MiB / secs, "results": results}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.upload_client", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("token")
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--mib", type=int, default=100)
    p.add_argument("--path", default="/api/files")
    args = p.parse_args(argv)
    report = run(args.url, args.token, parallel=args.parallel, mib=args.mib, path=args.path)
    print(json.dumps(report))
    return 0 if all(200 <= status < 300 for status, _ in report["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
