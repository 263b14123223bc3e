"""The auth package's per-process state: the password hasher (and its limiters) and the throttles.

One ``AuthRuntime`` per daemon (``DaemonState.auth``); it is a cache of nothing durable (the
throttle forgets on restart, which only resets backoffs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatd.auth.passwords import Passwords
from chatd.auth.throttle import LoginThrottle, RegistrationThrottle
from chatd.config import Config


@dataclass
class AuthRuntime:
    """What logins and registrations share within one process."""

    passwords: Passwords = field(default_factory=Passwords)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    registrations: RegistrationThrottle = field(
        default_factory=lambda: RegistrationThrottle(
            Config.registrations_per_hour_per_address, Config.registrations_per_hour
        )
    )

    @classmethod
    def for_config(cls, config: Config) -> AuthRuntime:
        """The runtime with ``config``'s registration limits."""
        return cls(registrations=RegistrationThrottle(
            config.registrations_per_hour_per_address, config.registrations_per_hour
        ))
