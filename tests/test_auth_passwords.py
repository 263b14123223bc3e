"""argon2id: parameters, worker threads behind a limiter, dummy verify, rehash at login."""

from __future__ import annotations

import threading

import argon2
import pytest
import trio
import trio.testing
from argon2.profiles import RFC_9106_LOW_MEMORY

from chatd.auth import passwords
from chatd.auth.accounts import AuthError, login
from chatd.auth.passwords import Passwords
from chatd.auth.throttle import LoginThrottle
from chatd.store import Database
from chatd.store import users as user_store
from tests.test_auth_support import FAST_PARAMETERS, PASSWORD, fast_passwords, make_user

__all__ = ["fast_passwords"]


def test_production_parameters_meet_rfc_9106_low_memory() -> None:
    p = passwords.PARAMETERS
    assert p.type is argon2.Type.ID
    assert p.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost  # 64 MiB
    assert p.time_cost >= RFC_9106_LOW_MEMORY.time_cost
    assert p.salt_len >= 16 and p.hash_len >= 32
    assert Passwords().parameters == p


async def test_hash_and_verify_round_trip() -> None:
    pw = Passwords(FAST_PARAMETERS)
    h = await pw.hash("hunter2hunter2")
    assert h.startswith("$argon2id$")
    assert "hunter2" not in h
    assert await pw.verify(h, "hunter2hunter2")
    assert not await pw.verify(h, "hunter2hunter3")
    assert not await pw.verify("not a hash", "hunter2hunter2")  # corrupt hash: refused, no crash


async def test_hashing_runs_in_worker_threads_behind_the_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    pw = Passwords(FAST_PARAMETERS, concurrency=2)
    h = await pw.hash("some password")
    loop_thread = threading.get_ident()
    threads: list[int] = []
    active = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()
    both_in = trio.Event()  # set from the second worker thread once two verifies run at once
    original = Passwords._verify_sync

    def spy(self: Passwords, password_hash: str, password: str) -> bool:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
            threads.append(threading.get_ident())
            both = active == 2
        if both:
            trio.from_thread.run_sync(both_in.set)
        release.wait(10)
        with lock:
            active -= 1
        return original(self, password_hash, password)

    monkeypatch.setattr(Passwords, "_verify_sync", spy)
    results: list[bool] = []

    async def one() -> None:
        results.append(await pw.verify(h, "some password"))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for _ in range(6):
                nursery.start_soon(one)
            try:
                # This task still runs while two verifies block their threads: the loop is free.
                await both_in.wait()
                await trio.testing.wait_all_tasks_blocked()
                stats = pw.limiter.statistics()
                assert (stats.borrowed_tokens, stats.tasks_waiting) == (2, 4)
            finally:
                release.set()
    assert results == [True] * 6
    assert peak == 2
    assert loop_thread not in threads


async def test_unknown_user_costs_a_verify(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    await make_user(db, "alice")
    pw = Passwords(FAST_PARAMETERS)
    verified: list[str] = []
    original = Passwords._verify_sync

    def spy(self: Passwords, password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return original(self, password_hash, password)

    monkeypatch.setattr(Passwords, "_verify_sync", spy)
    throttle = LoginThrottle()
    for username in ("nobody", "alice"):
        with pytest.raises(AuthError) as info:
            await login(db, pw, throttle, username=username, password="wrong password", client_addr="a", now=0)
        assert info.value.code == "invalid_credentials"
    # One argon2 verify each: the dummy hash for "nobody", alice's real hash for "alice".
    assert len(verified) == 2
    alice = await user_store.get_user_by_key(db, "alice")
    assert alice is not None
    assert verified[1] == alice.password_hash
    assert verified[0] != alice.password_hash and verified[0].startswith("$argon2id$")
    # The dummy uses the same parameters as real hashes, so it costs the same.
    assert verified[0].split("$")[3] == alice.password_hash.split("$")[3]


async def test_login_rehashes_when_parameters_changed(db: Database) -> None:
    old_params = argon2.Parameters(
        type=argon2.Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=512, parallelism=1
    )
    user = await make_user(db, "alice")
    weak = argon2.PasswordHasher.from_parameters(old_params).hash(PASSWORD)
    await user_store.set_password_hash(db, user_id=user.id, password_hash=weak)
    pw = Passwords(FAST_PARAMETERS)
    assert pw.needs_rehash(weak)

    account = await login(db, pw, LoginThrottle(), username="alice", password=PASSWORD, client_addr="a", now=0)
    assert account.id == user.id
    row = await user_store.get_user_by_key(db, "alice")
    assert row is not None
    assert row.password_hash != weak
    assert "m=1024,t=1,p=1" in row.password_hash
    assert not pw.needs_rehash(row.password_hash)
    # And the new hash still verifies the same password.
    await login(db, pw, LoginThrottle(), username="alice", password=PASSWORD, client_addr="a", now=0)


async def test_fast_parameters_fixture_reaches_new_hashers(fast_passwords: None) -> None:
    assert Passwords().parameters == FAST_PARAMETERS
