"""System tools the operations tests drive for real (haproxy, systemd-analyze, pg_dump…).

A missing tool skips its test loudly, or fails it when ``CI=true``: CI must not go green on a
machine without them. ``scripts/test`` installs them (as root, with apt-get).
"""

from __future__ import annotations

import os
import shutil

import pytest


def ci_requires_tools() -> bool:
    """True iff this is CI, where a missing tool is a failure (as a missing browser is)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_tool(name: str, install_hint: str) -> str:
    """The path of the program ``name``; skips (fails under CI=true) when it is not installed."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.access(p, os.X_OK)), None
    )
    if path is None:
        message = f"TOOL NOT INSTALLED, test not run: {name} (install it: {install_hint}, or run scripts/test as root)"
        if ci_requires_tools():
            pytest.fail(f"{name} missing under CI=true: {install_hint}", pytrace=False)
        pytest.skip(message)
    return path
