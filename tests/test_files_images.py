"""Images: thumbnails with EXIF orientation applied and no metadata, and hostile images (pixel
bombs, truncated files, formats off the allowlist) turned into plain files, never errors."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
import trio
from PIL import Image

from chatd.files.thumbnails import MAX_PIXELS, NotAnImage, make_thumbnail
from tests.helpers.client import register
from tests.helpers.files import download, upload
from tests.helpers.images import (
    gif_animation,
    gps_of,
    has_exif,
    jpeg_bytes,
    png_bytes,
    png_pixel_bomb,
)
from tests.helpers.server import RunningServer


async def test_gps_is_in_the_original_and_not_in_the_thumbnail(server: RunningServer) -> None:
    alice = await register(server, "alice")
    photo = jpeg_bytes(1600, 1200, gps=True)
    assert gps_of(photo)  # the fixture really carries a position
    with trio.fail_after(30):
        f = await upload(server, alice, photo, "holiday.jpg")
        original = await download(server, alice, f["id"])
        thumb = await download(server, alice, f["id"], "/thumb")
    assert original.body == photo  # the original is kept byte for byte, position included
    assert gps_of(original.body)
    assert thumb.status == 200 and thumb.headers["content-type"] == "image/webp"
    assert not has_exif(thumb.body) and gps_of(thumb.body) == {}
    with Image.open(io.BytesIO(thumb.body)) as im:
        assert im.size == (747, 560)  # within 840×560, the photo's 4:3 kept
        assert not {"exif", "icc_profile", "xmp"} & set(im.info)


@pytest.mark.parametrize(("orientation", "shown"), [(1, (1200, 800)), (6, (800, 1200)), (8, (800, 1200)), (3, (1200, 800))])
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int, shown: tuple[int, int]) -> None:
    src, dest = tmp_path / "in.jpg", tmp_path / "out.webp"
    src.write_bytes(jpeg_bytes(1200, 800, orientation=orientation))
    size = make_thumbnail(src, dest)
    assert (size.width, size.height) == shown  # what the message says: the size as displayed
    with Image.open(dest) as im:
        w, h = im.size
    assert (w > h) == (shown[0] > shown[1])


def test_a_pixel_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    bomb = png_pixel_bomb()  # 40000×40000 pixels in about 200 KB
    assert len(bomb) < 400_000
    src = tmp_path / "bomb.png"
    src.write_bytes(bomb)
    started = time.perf_counter()
    with pytest.raises(NotAnImage, match="pixels"):
        make_thumbnail(src, tmp_path / "out.webp")
    assert time.perf_counter() - started < 2  # not decoded: refused from the header
    assert not (tmp_path / "out.webp").exists()


def test_an_animation_counts_every_frame(tmp_path: Path) -> None:
    src = tmp_path / "anim.gif"
    src.write_bytes(gif_animation(2000, 1000, 46))  # 2 Mpx × 46 frames = 92 Mpx
    assert 2000 * 1000 * 46 > MAX_PIXELS
    with pytest.raises(NotAnImage, match="frames"):
        make_thumbnail(src, tmp_path / "out.webp")
    src.write_bytes(gif_animation(200, 100, 10))
    assert make_thumbnail(src, tmp_path / "out.webp").width == 200


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "PPM"])
def test_decoders_off_the_allowlist_are_not_run(tmp_path: Path, fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(out, fmt)
    src = tmp_path / f"x.{fmt.lower()}"
    src.write_bytes(out.getvalue())
    with pytest.raises(NotAnImage):
        make_thumbnail(src, tmp_path / "out.webp")


async def test_corrupt_images_become_plain_files(server: RunningServer) -> None:
    alice = await register(server, "alice")
    whole = jpeg_bytes(800, 600)
    cases = {
        "truncated.jpg": whole[: len(whole) // 2],
        "bomb.png": png_pixel_bomb(),
        "garbage.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 500,
    }
    with trio.fail_after(60):
        for name, data in cases.items():
            f = await upload(server, alice, data, name)
            assert f["kind"] == "file" and "w" not in f, (name, f)
            resp = await download(server, alice, f["id"])
            assert resp.status == 200 and resp.body == data  # still downloadable, as a file
            assert resp.headers["content-disposition"].startswith("attachment;")
            assert (await download(server, alice, f["id"], "/thumb")).status == 404
        ok = await upload(server, alice, png_bytes(300, 200), "fine.png")
        assert (ok["kind"], ok["w"], ok["h"]) == ("image", 300, 200)


async def test_thumbnails_run_in_worker_threads_at_most_one_per_core(server: RunningServer) -> None:
    import os

    assert server.state.files.thumb_limiter.total_tokens == (os.cpu_count() or 1)


async def test_a_missing_thumbnail_is_made_again(server: RunningServer) -> None:
    """Thumbnails are derived data (a backup may leave them out)."""
    alice = await register(server, "alice")
    f = await upload(server, alice, jpeg_bytes(640, 480), "p.jpg")
    for found in server.state.files.blobs.scan("thumbs"):
        found.path.unlink()
    thumb = await download(server, alice, f["id"], "/thumb")
    assert thumb.status == 200 and thumb.body[:4] == b"RIFF"
