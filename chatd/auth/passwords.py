"""Password hashing with argon2id (argon2-cffi), never on the event loop.

Every hash and verify runs in a worker thread (``trio.to_thread.run_sync``) behind a
``trio.CapacityLimiter``: a burst of logins queues for the limiter instead of starving the Trio
loop or multiplying the 64 MiB that each argon2 call allocates.

Parameters: RFC 9106's second recommended option ("low-memory": argon2id, t=3, m=64 MiB, p=4).
Hashes carry their own parameters, so old hashes keep verifying after a change and are
re-hashed at the next successful login (``needs_rehash``).
"""

from __future__ import annotations

import logging
import secrets

import argon2
import trio
from argon2.profiles import RFC_9106_LOW_MEMORY

log = logging.getLogger("chatd.auth")

# Module-level so a test suite can swap in cheap parameters before a server starts; production
# code never changes it. Raising it is safe at any time (old hashes upgrade at login).
PARAMETERS: argon2.Parameters = RFC_9106_LOW_MEMORY
# Each call already spreads over p=4 lanes (threads inside libargon2), so two concurrent calls
# keep a small box's cores busy; more would only queue in the kernel and add 64 MiB apiece.
HASH_CONCURRENCY = 2
# Registrations hash one at a time, so a burst of them (throttled, but still) leaves the other
# slot to logins: a person logging in waits behind at most one registration.
REGISTRATION_CONCURRENCY = 1


class Passwords:
    """argon2id hashing and verification in worker threads, at most ``concurrency`` at once, of
    which at most ``REGISTRATION_CONCURRENCY`` for new accounts."""

    def __init__(self, parameters: argon2.Parameters | None = None, concurrency: int = HASH_CONCURRENCY) -> None:
        self.parameters = parameters or PARAMETERS
        self._hasher = argon2.PasswordHasher.from_parameters(self.parameters)
        self.limiter = trio.CapacityLimiter(concurrency)
        self.registration_limiter = trio.CapacityLimiter(min(REGISTRATION_CONCURRENCY, concurrency))
        self._dummy_hash: str | None = None

    async def hash(self, password: str, *, registering: bool = False) -> str:
        """Hash ``password`` (already normalised). Blocks a worker thread for ~the verify time.

        ``registering``: for a new account, which queues behind other registrations first.
        """
        if registering:
            async with self.registration_limiter:
                return await trio.to_thread.run_sync(self._hash_sync, password, limiter=self.limiter)
        return await trio.to_thread.run_sync(self._hash_sync, password, limiter=self.limiter)

    async def verify(self, password_hash: str, password: str) -> bool:
        """True iff ``password`` matches ``password_hash``; False on mismatch or a corrupt hash."""
        return await trio.to_thread.run_sync(self._verify_sync, password_hash, password, limiter=self.limiter)

    async def verify_dummy(self, password: str) -> None:
        """Spend the same work as a real verify, for a user that does not exist.

        Without it, "no such user" would answer in microseconds and "wrong password" in hundreds
        of milliseconds, and the difference would tell an attacker which usernames exist.
        """
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """True iff ``password_hash`` was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except argon2.exceptions.InvalidHashError:
            return True

    # The synchronous halves run in worker threads only.

    def _hash_sync(self, password: str) -> str:
        return self._hasher.hash(password)

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except argon2.exceptions.VerifyMismatchError:
            return False
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError) as exc:
            log.warning("event=auth.bad_password_hash error=%s", str(exc))
            return False
