"""The chatd command line: help everywhere, usage errors exit 2, configuration errors exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatd import __version__
from chatd.cli import build_parser, main
from tests.helpers.proc import run_cli


def _all_commands() -> list[list[str]]:
    """Every command path of the parser, found by walking it (new commands are covered too)."""
    import argparse

    found: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append([*prefix, name])
                    walk(sub, [*prefix, name])

    walk(build_parser(), [])
    return found


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


@pytest.mark.parametrize("command", _all_commands(), ids=lambda c: " ".join(c))
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: chatd" in out
    assert "examples:" in out, f"`chatd {' '.join(command)} --help` shows no examples"


def test_top_level_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in ("serve", "migrate", "config"):
        assert name in out


@pytest.mark.parametrize(
    "argv",
    [["frobnicate"], ["serve", "--bogus"], ["serve", "--port", "abc"], [], ["config"], ["config", "hide"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_bad_config_value_exits_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["config", "show", "--data-dir", str(tmp_path), "--config", str(_write(tmp_path, "port = -1\n"))])
    assert code == 2
    err = capsys.readouterr().err
    assert "port" in err and "-1" in err and "an integer from 0 to 65535" in err


def test_config_show_masks_secrets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["config", "show", "--data-dir", str(tmp_path), "--database-url", "postgresql://u:hunter2@db/chatd"])
    assert code == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert 'database_url = "postgresql://u:***@db/chatd"' in out
    assert f'data_dir = "{tmp_path}"' in out


def test_config_show_json_in_a_real_process(tmp_path: Path) -> None:
    result = run_cli("config", "show", "--json", "--data-dir", str(tmp_path), env={"CHATD_PORT": "9443"})
    assert result.returncode == 0, result.stderr
    assert '"port": 9443' in result.stdout


def _write(folder: Path, text: str) -> Path:
    path = folder / "custom.toml"
    path.write_text(text)
    return path
