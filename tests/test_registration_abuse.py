"""Registration abuse held off (issue 16, item 2): no username enumeration through invites, a
rate per address and over the server, and logins never starved of argon2 by registrations."""

from __future__ import annotations

import threading

import pytest
import trio
import trio.testing

from chatd.auth import tokens
from chatd.auth.passwords import Passwords
from chatd.auth.throttle import RegistrationThrottle
from chatd.clock import FakeClock
from chatd.config import Config
from chatd.store import Database
from chatd.store import invites as invite_store
from tests.test_auth_support import FAST_PARAMETERS, Client, fast_passwords, server_with

__all__ = ["fast_passwords"]
pytestmark = pytest.mark.usefixtures("fast_passwords")


async def test_a_bogus_invite_says_nothing_about_usernames(
    server_config: Config, db: Database, nursery: trio.Nursery
) -> None:
    code = tokens.new_invite_code()
    now = FakeClock().now()
    await invite_store.create_invite(db, tokens.digest(code), "", now, now + 86400)
    async with server_with(server_config, db, nursery, registration="invite") as srv:
        assert (await Client(srv).register("alice", invite=code)).status == 201
        taken = await Client(srv).register("alice", invite="bogus-invite")
        free = await Client(srv).register("nobody-has-this", invite="bogus-invite")
    for resp in (taken, free):
        assert (resp.status, resp.json["error"], resp.json["field"]) == (400, "invite_invalid", "invite")
    assert taken.body == free.body


async def test_registrations_are_limited_per_address(
    server_config: Config, db: Database, nursery: trio.Nursery, clock: FakeClock
) -> None:
    async with server_with(server_config, db, nursery, clock, registrations_per_hour_per_address=3) as srv:
        for i in range(3):
            assert (await Client(srv).register(f"user{i}")).status == 201
        refused = await Client(srv).register("user3")
        assert refused.status == 429
        assert refused.json["error"] == "rate_limited"
        assert "try again" in refused.json["message"]
        wait = int(refused.headers["retry-after"])
        assert 1190 <= wait <= 1201  # one registration in 3 an hour: 20 minutes
        # Invalid fields are refused without counting (and without touching the database).
        assert (await Client(srv).register("x")).json["error"] == "username_invalid"
        clock.advance(wait)
        assert (await Client(srv).register("user3")).status == 201
        assert (await Client(srv).register("user4")).status == 429


async def test_open_registration_is_limited_over_the_server(
    server_config: Config, db: Database, nursery: trio.Nursery, clock: FakeClock
) -> None:
    overrides = {"registrations_per_hour": 2, "trusted_proxies": ("127.0.0.1",)}
    async with server_with(server_config, db, nursery, clock, **overrides) as srv:
        for i in range(2):
            resp = await Client(srv, headers={"X-Forwarded-For": f"192.0.2.{i}"}).register(f"user{i}")
            assert resp.status == 201
        refused = await Client(srv, headers={"X-Forwarded-For": "192.0.2.99"}).register("user2")
        assert (refused.status, refused.json["error"]) == (429, "rate_limited")
        assert int(refused.headers["retry-after"]) >= 1


def test_the_throttle_counts_per_address_and_globally_only_when_open() -> None:
    now = 1000.0
    per_address = RegistrationThrottle(per_address_per_hour=2, per_hour=1000)
    assert per_address.attempt("192.0.2.1", now, open_mode=True) == 0
    assert per_address.attempt("192.0.2.1", now, open_mode=True) == 0
    assert per_address.attempt("192.0.2.1", now, open_mode=True) == pytest.approx(1800)  # 2 an hour
    assert per_address.attempt("192.0.2.2", now, open_mode=True) == 0  # another address
    assert per_address.attempt("2001:db8::1", now, open_mode=True) == 0
    assert per_address.attempt("2001:db8::2", now, open_mode=True) == 0
    assert per_address.attempt("2001:db8::3", now, open_mode=True) == pytest.approx(1800)  # one /64
    assert per_address.attempt("192.0.2.1", now + 1800, open_mode=True) == 0  # refilled

    server = RegistrationThrottle(per_address_per_hour=1000, per_hour=3)
    for i in range(3):
        assert server.attempt(f"192.0.2.{i}", now, open_mode=True) == 0
    assert server.attempt("192.0.2.9", now, open_mode=True) == pytest.approx(1200)  # 3 an hour
    assert server.attempt("192.0.2.9", now, open_mode=False) == 0  # invite mode: per address only
    assert server.attempt("192.0.2.9", now + 1200, open_mode=True) == 0

    unlimited = RegistrationThrottle(per_address_per_hour=0, per_hour=0)
    assert all(unlimited.attempt("192.0.2.1", now, open_mode=True) == 0 for _ in range(100))


async def test_a_login_is_not_queued_behind_registrations() -> None:
    """Two registrations' hashes in flight (one running, one waiting): a login's verify still
    gets the other slot at once instead of queueing behind both."""
    passwords = Passwords(FAST_PARAMETERS)
    stored = await passwords.hash("correct horse battery")
    release = threading.Event()
    hashing = threading.Event()
    real_hash = passwords._hash_sync

    def slow_hash(password: str) -> str:
        hashing.set()
        release.wait(30)
        return real_hash(password)

    passwords._hash_sync = slow_hash  # type: ignore[method-assign]
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(lambda: passwords.hash("a new account's password", registering=True))
            await trio.to_thread.run_sync(hashing.wait)
            await trio.testing.wait_all_tasks_blocked()
            assert passwords.limiter.borrowed_tokens == 1  # the other registrations wait their turn
            assert await passwords.verify(stored, "correct horse battery")
            release.set()
