"""The auth package's per-process state: the password hasher (and its limiter) and the throttle.

One ``AuthRuntime`` per ``AppState``, created on first use and kept in ``state.extras``; it is a
cache of nothing durable (the throttle forgets on restart, which only resets backoffs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatd.auth.passwords import Passwords
from chatd.auth.throttle import LoginThrottle

if TYPE_CHECKING:
    from chatd.web.app import AppState

_EXTRAS_KEY = "chatd.auth.runtime"


@dataclass
class AuthRuntime:
    """What logins share within one process."""

    passwords: Passwords = field(default_factory=Passwords)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


def auth_runtime(state: AppState) -> AuthRuntime:
    """The ``AuthRuntime`` of ``state`` (created on first call)."""
    runtime = state.extras.get(_EXTRAS_KEY)
    if not isinstance(runtime, AuthRuntime):
        runtime = AuthRuntime()
        state.extras[_EXTRAS_KEY] = runtime
    return runtime
