"""The auth package's per-process state: the password hasher (and its limiter) and the throttle.

One ``AuthRuntime`` per daemon (``DaemonState.auth``); it is a cache of nothing durable (the
throttle forgets on restart, which only resets backoffs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatd.auth.passwords import Passwords
from chatd.auth.throttle import LoginThrottle


@dataclass
class AuthRuntime:
    """What logins share within one process."""

    passwords: Passwords = field(default_factory=Passwords)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
