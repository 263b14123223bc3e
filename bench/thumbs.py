"""Thumbnail cost for S10: chatd's own ``make_thumbnail`` on a 12 MP or 48 MP JPEG, alone in a
fresh process so its peak memory is the thumbnailer's.

    python -m bench.thumbs make PATH WIDTH HEIGHT    # write a photo-like JPEG
    python -m bench.thumbs measure PATH [--runs 3]   # time it; print one JSON line

``measure`` prints the median wall time of ``--runs`` thumbnails (the first included: a daemon
thumbnails each upload once, cold) and the peak resident memory above the process's size just
before the first one (interpreter, Pillow and chatd imported): VmHWM − VmRSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def make(path: Path, width: int, height: int) -> None:
    """A JPEG that compresses like a photo (gradient and noise), quality 90, with EXIF."""
    from PIL import ExifTags, Image

    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width // 8, height // 8), 60).resize((width, height)).convert("RGB")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 1
    Image.blend(base, noise, 0.5).save(path, "JPEG", quality=90, exif=exif.tobytes())


def measure(path: Path, runs: int) -> dict[str, float]:
    from chatd.files.thumbnails import make_thumbnail

    before = _status_kib("VmRSS")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            t0 = time.perf_counter()
            size = make_thumbnail(path, Path(tmp) / f"t{i}.webp")
            times.append((time.perf_counter() - t0) * 1000)
    return {"ms": statistics.median(times), "ms_runs": times, "peak_mib": (_status_kib("VmHWM") - before) / 1024,
            "width": size.width, "height": size.height, "bytes": path.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.thumbs")
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("path", type=Path)
    m.add_argument("width", type=int)
    m.add_argument("height", type=int)
    q = sub.add_parser("measure")
    q.add_argument("path", type=Path)
    q.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)
    if args.cmd == "make":
        make(args.path, args.width, args.height)
    else:
        print(json.dumps(measure(args.path, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
