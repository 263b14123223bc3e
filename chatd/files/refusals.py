"""How the file service says no: ``UploadRefused`` (an HTTP status, a stable code, a message
for people) and the sizes in those messages."""

from __future__ import annotations

from typing import Any, Final

OUT_OF_SPACE: Final = "The server is out of space for files; text messages still work."


def human_bytes(n: int) -> str:
    """``n`` bytes for people: "212 MB", "1.5 GB", "900 bytes" (1 KB = 1024 bytes, as the web
    client writes them too)."""
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}".replace(".0 ", " ") if value < 10 else f"{round(value)} {unit}"
    raise AssertionError("unreachable")


class UploadRefused(Exception):
    """An upload not accepted: HTTP ``status``, a stable ``code``, a message for people, and
    extra JSON fields (``limit_bytes``, ``offset``…)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def too_large(limit: int, size: int | None = None) -> UploadRefused:
    what = f"This file is {human_bytes(size)}; this" if size is not None else "This"
    return UploadRefused(413, "too_large", f"{what} server accepts files up to {human_bytes(limit)}.",
                         limit_bytes=limit)


def out_of_space() -> UploadRefused:
    return UploadRefused(507, "insufficient_storage", OUT_OF_SPACE)
