"""systemd's readiness and watchdog protocol (sd_notify(3)), in a few lines and no dependency.

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET`` (a unix datagram socket; a leading ``@``
means an abstract one) and, with ``WatchdogSec=``, ``WATCHDOG_USEC``. chatd sends ``READY=1``
once migrations, the database pool and the listener are up, ``STOPPING=1`` when it begins to
drain, ``RELOADING=1``/``READY=1`` around a certificate reload, and ``WATCHDOG=1`` from a task of
the event loop at half the watchdog interval: a loop that hangs stops pinging and systemd restarts
the service. Without ``NOTIFY_SOCKET`` (a terminal, the tests) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import MutableMapping
from typing import Any

import trio

log = logging.getLogger("chatd.sdnotify")


class Notifier:
    """Sends state lines to systemd's notification socket, if there is one. Never blocks."""

    def __init__(self, address: str = "", watchdog_usec: int = 0) -> None:
        self.address = address
        # Ping at half the interval, as sd_watchdog_enabled(3) recommends.
        self.watchdog_secs = watchdog_usec / 2e6 if watchdog_usec > 0 else 0.0

    @classmethod
    def from_environ(cls, environ: MutableMapping[str, str] | None = None) -> Notifier:
        """The notifier systemd asked for; removes its variables from ``environ`` (default
        ``os.environ``) so child processes (the embedded PostgreSQL speaks sd_notify too) do
        not inherit them and claim to be the service."""
        env = os.environ if environ is None else environ
        address = env.pop("NOTIFY_SOCKET", "")
        usec_text, pid_text = env.pop("WATCHDOG_USEC", ""), env.pop("WATCHDOG_PID", "")
        usec = int(usec_text) if usec_text.isdigit() else 0
        if pid_text.isdigit() and int(pid_text) != os.getpid():
            usec = 0  # the watchdog is meant for another process
        return cls(address, usec)

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, *lines: str) -> bool:
        """Send ``lines`` (``READY=1``, ``STATUS=…``) as one datagram; True iff it was sent."""
        if not self.address:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                sock.sendto("\n".join(lines).encode(), target)
        except OSError as exc:
            log.warning("event=sdnotify.failed address=%s error=%s", self.address, str(exc))
            return False
        return True

    async def keep_watchdog(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Ping the watchdog from this event loop until cancelled (returns at once if off)."""
        task_status.started()
        if not self.address or not self.watchdog_secs:
            return
        while True:
            self.notify("WATCHDOG=1")
            await trio.sleep(self.watchdog_secs)
