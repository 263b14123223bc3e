"""Thumbnails of uploaded images, with Pillow. Blocking: run ``make_thumbnail`` in a worker
thread behind the file service's limiter (at most one per core).

Safe with hostile input:

- **decoders on an allowlist** (``DECODERS``): every decoder Pillow may run on an upload is part
  of what an attacker can reach, so only the formats browsers show are opened;
- **a pixel limit** (``MAX_PIXELS``, Zulip's 90 Mpx, about a quarter of a GiB at 24 bits) read
  from the header before any pixel is decoded, for animations counted over every frame: a
  195 KB PNG of 40000×40000 pixels is refused in milliseconds, not decoded;
- **shrink on load**: ``Image.thumbnail`` asks the JPEG decoder for a reduced scale (``draft``)
  and ``reduce``s other formats before resampling, so a 12 MP photo never exists at full size in
  memory (~130 ms and ~20 MiB here, against ~280 ms and ~110 MiB when EXIF orientation is
  applied first, which forces a full decode — anchors §B2);
- **no metadata out**: the thumbnail is a new image with the pixels only (no EXIF, so no GPS
  position; no ICC, XMP or comments); the EXIF orientation is applied to it first.

Anything that goes wrong (a truncated or corrupt file, an unsupported variant, a bomb) raises
``NotAnImage``: the upload is then a plain file, never a broken message.
"""

from __future__ import annotations

import logging
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import ExifTags, Image

log = logging.getLogger("chatd.files")

#: What a thumbnail fits in: 840×560 (Zulip's size), sharp at 2× on a ~420 px wide inline image.
THUMB_BOX: Final = (840, 560)
#: Largest image (width × height × frames) chatd decodes.
MAX_PIXELS: Final = 90_000_000
#: The Pillow formats an upload may be decoded as.
DECODERS: Final = ("JPEG", "PNG", "GIF", "WEBP", "AVIF")
WEBP_QUALITY: Final = 80  # visually clean at thumbnail size; ~40 KB for a photo

# Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises beyond: with the limit set
# here and the warning made an error, anything over MAX_PIXELS stops at Image.open.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

# EXIF orientation → the transpose that shows the image upright (1 needs none).
_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class NotAnImage(Exception):
    """The file cannot be (or must not be) decoded as an image; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class ImageSize:
    """An image's size as displayed (EXIF orientation applied)."""

    width: int
    height: int


def make_thumbnail(src: Path, dest: Path) -> ImageSize:
    """Write a WebP thumbnail of image ``src`` to ``dest`` (atomically); return the image's size.

    Blocking (decoding takes up to a few hundred ms). Raises ``NotAnImage``.
    """
    try:
        return _make(src, dest)
    except NotAnImage:
        raise
    except Image.DecompressionBombError as exc:
        raise NotAnImage(f"over {MAX_PIXELS} pixels ({exc})") from None
    except Image.DecompressionBombWarning as exc:
        raise NotAnImage(f"over {MAX_PIXELS} pixels ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise NotAnImage(f"cannot decode: {exc}") from None
    except Exception as exc:  # a decoder's bug on hostile input: the upload stays a plain file
        log.info("event=files.decoder_error error=%s", f"{type(exc).__name__}: {exc}")
        raise NotAnImage(f"cannot decode: {type(exc).__name__}") from None


def _make(src: Path, dest: Path) -> ImageSize:
    with Image.open(src, formats=DECODERS) as im:
        width, height = im.size
        frames = getattr(im, "n_frames", 1)
        if width * height * frames > MAX_PIXELS:
            raise NotAnImage(f"{width}×{height} pixels × {frames} frames is over {MAX_PIXELS}")
        orientation = im.getexif().get(ExifTags.Base.Orientation, 1)
        transpose = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
        sideways = transpose in (Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE,
                                 Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270)
        box = (THUMB_BOX[1], THUMB_BOX[0]) if sideways else THUMB_BOX
        im.thumbnail(box, Image.Resampling.LANCZOS, reducing_gap=2.0)
        small = im.transpose(transpose) if transpose is not None else im
        small = _displayable(small)
        # A fresh image holds pixels and nothing else: no EXIF (GPS), ICC, XMP or comment.
        clean = Image.new(small.mode, small.size)
        clean.paste(small)
    tmp = dest.with_name(f"{dest.name}.{secrets.token_hex(6)}.tmp")
    try:
        clean.save(tmp, "WEBP", quality=WEBP_QUALITY)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return ImageSize(height, width) if sideways else ImageSize(width, height)


def _displayable(im: Image.Image) -> Image.Image:
    """``im`` in a mode WebP stores: RGB, or RGBA when it has transparency."""
    if im.mode in ("RGB", "RGBA"):
        return im
    if im.mode == "P":
        return im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("LA", "PA") or (im.mode == "L" and "transparency" in im.info):
        return im.convert("RGBA")
    return im.convert("RGB")
