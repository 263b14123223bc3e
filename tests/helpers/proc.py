"""chatd as a real subprocess (``python -m chatd.cli serve``) for lifecycle and crash tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

URL_LINE = re.compile(r"chatd is running at (\S+)/")


class ChatdProcess:
    """One ``chatd serve`` child; stdout and stderr are collected into ``output``."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.args = list(args)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
        self.env.update(env or {})
        self.output = ""
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, wait: bool = True, timeout: float = 60) -> ChatdProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chatd.cli", "serve", "--data-dir", str(self.data_dir), "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        if wait:
            deadline = time.monotonic() + timeout
            while not self.url:
                if self.proc.poll() is not None:
                    raise AssertionError(f"chatd exited with {self.proc.returncode}:\n{self.output}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"chatd did not start within {timeout} s:\n{self.output}")
                time.sleep(0.02)
        return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                with self._lock:
                    self.output += line
                m = URL_LINE.search(line)
                if m and not self.url:
                    self.url = m.group(1)

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout)
        self._pump_thread.join(10)  # reads the last lines, then closes the pipe
        return code

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def terminate_and_wait(self, timeout: float = 60) -> int:
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.wait()


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``chatd ARGS`` to completion (a fresh interpreter, as an operator would)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "chatd.cli", *args], capture_output=True, text=True, env=full_env, timeout=timeout
    )
