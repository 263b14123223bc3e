"""Admin commands of the ``chatd`` CLI that act on the database beside a running daemon."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register the admin sub-commands on the ``chatd`` parser."""
    return None
