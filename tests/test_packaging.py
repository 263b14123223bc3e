"""A normal (non-editable) ``pip install .`` carries the whole web client and every migration.

They are installed under ``share/chatd/`` from setup.cfg's ``[options.data_files]``, whose globs
name each folder. A folder left out there is missing from every real install, while a checkout
(``scripts/run``, ``pip install -e .``) serves client_web/ in place and works: client_web/img/
once was, and the sidebar logo was a 404. So this builds the wheel from a copy of the sources,
offline, and compares its data files with the tree: a new folder that is forgotten fails here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from chatd import __version__

ROOT = Path(__file__).resolve().parents[1]
INSTALLED_FOLDERS = ("client_web", "sql")  # what chatd reads from share/chatd/ when installed
NOT_INSTALLED = ("client_web/tests/",)  # the web client's unit tests (node --test), not served
BUILD_INPUTS = ("pyproject.toml", "setup.cfg", "README.md", "chatd", *INSTALLED_FOLDERS)
WHEEL_DATA = f"chatd-{__version__}.data/data/share/chatd/"  # installed below sys.prefix


def _tree_files() -> set[str]:
    files = {
        path.relative_to(ROOT).as_posix()
        for folder in INSTALLED_FOLDERS
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
    }
    return {f for f in files if not f.startswith(NOT_INSTALLED)}


def _build_wheel(tmp_path: Path) -> Path:
    """Build chatd's wheel the way pip installs it, without network and without touching the
    checkout (pip builds in the source folder, so in a copy)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--wheel-dir", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [wheel] = out.glob("chatd-*.whl")
    return wheel


def test_wheel_installs_every_client_file_and_migration(tmp_path: Path) -> None:
    with zipfile.ZipFile(_build_wheel(tmp_path)) as wheel:
        names = wheel.namelist()
    installed = {n.removeprefix(WHEEL_DATA) for n in names if n.startswith(WHEEL_DATA)}
    expected = _tree_files()
    assert {"client_web/index.html", "client_web/img/icon.svg", "sql/0001_core.sql"} <= expected
    missing = sorted(expected - installed)
    assert not missing, f"not in a non-editable install (setup.cfg [options.data_files]): {missing}"
    assert sorted(installed - expected) == []  # nothing else (the client's tests stay out)
    assert "chatd/py.typed" in names and "chatd/wire/codec.py" in names
