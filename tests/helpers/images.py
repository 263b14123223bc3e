"""Images for the file tests, made on the fly: photos with EXIF (GPS, orientation), a pixel
bomb, a truncated JPEG, polyglots."""

from __future__ import annotations

import functools
import io
import struct
import zlib

from PIL import ExifTags, Image

GPS = {  # somewhere in Berlin, in EXIF's rationals
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
}


def _photo(width: int, height: int) -> Image.Image:
    """A picture that compresses like a photo: gradients and noise, not one flat colour."""
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((max(width // 8, 1), max(height // 8, 1)), 60).resize((width, height)).convert("RGB")
    return Image.blend(base, noise, 0.5)


def jpeg_bytes(width: int, height: int, *, gps: bool = False, orientation: int | None = None,
               quality: int = 85) -> bytes:
    """A JPEG of ``width``×``height`` stored pixels, with GPS and/or orientation in EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "chatd-test-camera"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    _photo(width, height).save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def png_bytes(width: int, height: int, *, text: str | None = None) -> bytes:
    """A PNG; ``text`` goes into a tEXt chunk right after the header (before the pixels)."""
    out = io.BytesIO()
    _photo(width, height).save(out, "PNG")
    data = out.getvalue()
    if text is None:
        return data
    payload = b"Comment\x00" + text.encode("latin-1")
    chunk = struct.pack(">I", len(payload)) + b"tEXt" + payload
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + payload) & 0xFFFFFFFF)
    ihdr_end = 8 + 25  # signature, then IHDR: length, type, 13 bytes, CRC
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def gps_of(data: bytes) -> dict[int, object]:
    """The GPS tags in an image's EXIF ({} when it has none)."""
    with Image.open(io.BytesIO(data)) as im:
        return dict(im.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def has_exif(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as im:
        return bool(im.info.get("exif")) or bool(im.getexif())


@functools.cache
def png_pixel_bomb(side: int = 40_000) -> bytes:
    """A valid one-bit PNG of ``side``×``side`` pixels (1.6 Gpx), ~200 KB: all zeros."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    z = zlib.compressobj(9)
    parts = [z.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def gif_animation(width: int, height: int, frames: int) -> bytes:
    out = io.BytesIO()
    images = [Image.new("P", (width, height), i % 256) for i in range(frames)]
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=40, loop=0)
    return out.getvalue()
