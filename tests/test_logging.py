"""Logs: at an interactive terminal the per-request log is opt-in, so that the banner and the
certificate fingerprint of ``chatd serve`` stay on screen; elsewhere (journal, log file) it is on."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import pytest

from chatd.config import ConfigError, load_config
from chatd.log import setup_logging
from tests.helpers.server import RunningServer, http_request

pytestmark = pytest.mark.usefixtures("restore_logging")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("terminal", "env", "shown"),
    [
        (True, {}, False),  # scripts/run at a terminal: the default hides request lines
        (False, {}, True),  # the journal or a log file keeps them
        (True, {"CHATD_ACCESS_LOG": "on"}, True),  # opted in at the terminal
        (False, {"CHATD_ACCESS_LOG": "off"}, False),
    ],
)
async def test_request_log_is_opt_in_at_a_terminal(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, terminal: bool,
    env: dict[str, str], shown: bool,
) -> None:
    stderr = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    cfg = load_config(env={"CHATD_DATA_DIR": str(tmp_path), **env})
    setup_logging(cfg.log_level, cfg.access_log)
    resp = await http_request("GET", server.url + "/login")
    assert resp.status == 200
    logging.getLogger("chatd.server").info("event=other.thing")
    out = stderr.getvalue()
    assert "event=other.thing" in out  # the rest of the info log is unchanged
    assert ("event=http.request method=GET path=/login status=200" in out) is shown, out


def test_access_log_setting_is_checked(tmp_path: Path) -> None:
    env = {"CHATD_DATA_DIR": str(tmp_path)}
    assert load_config(env=env).access_log == "auto"
    with pytest.raises(ConfigError, match=r"access_log='yes' \(from environment\): expected one of auto, on, off"):
        load_config(env={**env, "CHATD_ACCESS_LOG": "yes"})
