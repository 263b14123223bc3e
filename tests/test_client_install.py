"""A non-editable ``pip install .`` carries the whole web client.

chatd serves ``client_web/`` from ``share/chatd/client_web`` when it is not run from a source
checkout (``chatd.web.app.client_dir``). What lands there is decided by ``setup.cfg``'s
``[options.data_files]``, a list of globs per folder, so a new client folder (or ``img/``, once
forgotten: the sidebar logo was a 404 after an install) is silently left out. This reads the
globs the way setuptools does when it builds the wheel and compares them with the checkout.
"""

from __future__ import annotations

from pathlib import Path

from setuptools.dist import Distribution

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "client_web"
NOT_SERVED = ("tests",)  # the client's unit tests stay in the checkout


def _installed_files() -> dict[str, str]:
    """Installed path (below the prefix) → source path, as setuptools expands setup.cfg."""
    dist = Distribution()
    dist.parse_config_files([str(ROOT / "setup.cfg")])
    return {
        f"{folder}/{Path(src).name}": src for folder, sources in dist.data_files for src in sources
    }


def test_every_client_file_is_installed_where_the_server_looks() -> None:
    served = sorted(
        p.relative_to(ROOT).as_posix()
        for p in CLIENT.rglob("*")
        if p.is_file() and p.relative_to(CLIENT).parts[0] not in NOT_SERVED
    )
    assert any(s.startswith("client_web/js/net/") for s in served)
    assert "client_web/img/icon.svg" in served
    installed = _installed_files()
    missing = [s for s in served if installed.get(f"share/chatd/{s}") != s]
    assert missing == []


def test_nothing_else_is_installed_into_the_client_folder() -> None:
    extra = [
        dest
        for dest, src in _installed_files().items()
        if dest.startswith("share/chatd/client_web/") and dest != f"share/chatd/{src}"
    ]
    assert extra == []
