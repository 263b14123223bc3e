"""The login throttle (repeated failures for one account or address slow down) and the
registration throttle (a rate per address, and over the server in open mode).

Logins: only failed password checks count. After ``free_failures`` failures,
each further failure blocks that key for ``base_secs * 2**n``, capped at ``cap_secs``; a blocked
key gets ``rate_limited`` with ``Retry-After`` *before* any password is checked, so guessing
cannot proceed faster than the backoff. A key's failures are forgotten ``forget_secs`` after its
last failure. A successful login clears the account's record (the owner proved the password) but
not the address's: otherwise an attacker could reset their address by logging in to an account
of their own between guesses.

Registrations: a token bucket per address (and one for the server), ``RegistrationThrottle``.

State is per process and in memory, bounded by ``max_entries`` per table (oldest evicted first).
Times are passed in (``now``, epoch seconds from the app clock), so the throttle is pure.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Entry:
    failures: int = 0
    last_failure: float = 0.0
    blocked_until: float = 0.0


class Backoff:
    """Exponential, capped backoff per key. Not thread-safe (one Trio loop)."""

    def __init__(
        self, *, free_failures: int, base_secs: float, cap_secs: float, forget_secs: float, max_entries: int
    ) -> None:
        self.free_failures = free_failures
        self.base_secs = base_secs
        self.cap_secs = cap_secs
        self.forget_secs = forget_secs
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0.0: now)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        if now - entry.last_failure > self.forget_secs:
            del self._entries[key]
            return 0.0
        return max(0.0, entry.blocked_until - now)

    def failed(self, key: str, now: float) -> None:
        """Record one failure of ``key`` at ``now``."""
        entry = self._entries.pop(key, None)
        if entry is None or now - entry.last_failure > self.forget_secs:
            entry = _Entry()
        entry.failures += 1
        entry.last_failure = now
        excess = entry.failures - self.free_failures
        if excess > 0:
            entry.blocked_until = now + min(self.cap_secs, self.base_secs * 2 ** min(excess - 1, 30))
        self._entries[key] = entry  # most recent last: eviction takes the stalest
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self, key: str) -> None:
        """Forget ``key``'s failures."""
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


# Accounts: five typos are free; then 1 s, 2 s, 4 s… capped at one minute, so an attacker who
# fails on purpose can lock a real user out for at most a minute at a time.
ACCOUNT_FREE_FAILURES = 5
ACCOUNT_CAP_SECS = 60.0
# Addresses: a household or office shares one address, so more free failures, a longer cap.
ADDRESS_FREE_FAILURES = 10
ADDRESS_CAP_SECS = 300.0
FORGET_SECS = 15 * 60.0  # quiet for a quarter hour: a later typo starts from scratch
MAX_ENTRIES = 10_000  # ~1 MB per table at worst


class LoginThrottle:
    """Backoff per account (username key) and per client address."""

    def __init__(self) -> None:
        self.accounts = Backoff(
            free_failures=ACCOUNT_FREE_FAILURES, base_secs=1.0, cap_secs=ACCOUNT_CAP_SECS,
            forget_secs=FORGET_SECS, max_entries=MAX_ENTRIES,
        )
        self.addresses = Backoff(
            free_failures=ADDRESS_FREE_FAILURES, base_secs=1.0, cap_secs=ADDRESS_CAP_SECS,
            forget_secs=FORGET_SECS, max_entries=MAX_ENTRIES,
        )

    def retry_after(self, account: str, address: str, now: float) -> float:
        """Seconds before this account from this address may try a password again (0.0: now)."""
        return max(self.accounts.retry_after(account, now), self.addresses.retry_after(address_key(address), now))

    def failed(self, account: str, address: str, now: float) -> None:
        """Record a failed password check."""
        self.accounts.failed(account, now)
        self.addresses.failed(address_key(address), now)

    def succeeded(self, account: str) -> None:
        """Record a successful login: the account's failures are forgotten."""
        self.accounts.clear(account)


def address_key(address: str) -> str:
    """The throttle key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class RateLimit:
    """A token bucket per key: ``per_hour`` events in a burst, refilled at ``per_hour`` an hour.

    ``per_hour`` 0 means no limit. At most ``max_entries`` keys are kept (the stalest go first:
    a forgotten key starts with a full bucket, which only errs towards letting a person in).
    """

    def __init__(self, per_hour: int, max_entries: int = MAX_ENTRIES) -> None:
        self.per_hour = per_hour
        self.max_entries = max_entries
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.per_hour), now))
        return min(float(self.per_hour), tokens + max(0.0, now - at) * self.per_hour / 3600.0)

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may act (0.0: now)."""
        if not self.per_hour:
            return 0.0
        missing = 1.0 - self._tokens(key, now)
        return max(0.0, missing * 3600.0 / self.per_hour)

    def take(self, key: str, now: float) -> None:
        """Count one event of ``key`` (call after ``retry_after`` said 0)."""
        if not self.per_hour:
            return
        tokens = self._tokens(key, now) - 1.0
        self._buckets.pop(key, None)
        self._buckets[key] = (tokens, now)  # most recent last: eviction takes the stalest
        while len(self._buckets) > self.max_entries:
            self._buckets.popitem(last=False)


class RegistrationThrottle:
    """Registrations per client address, and (open registration) over the whole server.

    Counted: attempts whose fields are valid, i.e. that ask the database whether a name or an
    invite exists and may cost an argon2 hash. Refused attempts are cheap (429 before any query).
    """

    def __init__(self, per_address_per_hour: int, per_hour: int) -> None:
        self.addresses = RateLimit(per_address_per_hour)
        self.server = RateLimit(per_hour, max_entries=1)

    def attempt(self, address: str, now: float, *, open_mode: bool) -> float:
        """Count one attempt from ``address``; returns 0.0, or the seconds to wait (not counted)."""
        key = address_key(address)
        wait = self.addresses.retry_after(key, now)
        if open_mode:
            wait = max(wait, self.server.retry_after("", now))
        if wait > 0:
            return wait
        self.addresses.take(key, now)
        if open_mode:
            self.server.take("", now)
        return 0.0
