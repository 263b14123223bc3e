"""The interface the WebSocket gateway relies on: ``Sessions.authenticate``, ``revalidate``, ``Principal``."""

from __future__ import annotations

import dataclasses

import pytest

from chatd.auth import sessions
from chatd.auth.sessions import SESSION_COOKIE, TOUCH_SECS, Principal
from chatd.clock import FakeClock
from chatd.config import load_config
from chatd.state import DaemonState, build_state
from chatd.store import Database
from chatd.store import sessions as session_store
from tests.test_auth_support import make_session, make_user

IDLE = 3600
MAX = 10 * 3600


@pytest.fixture
def state(db: Database) -> DaemonState:
    cfg = load_config(env={}, overrides={"session_idle_secs": IDLE, "session_max_secs": MAX})
    return build_state(cfg, db, FakeClock(1_800_000_000.0))


def clock_of(state: DaemonState) -> FakeClock:
    assert isinstance(state.clock, FakeClock)
    return state.clock


def test_the_interface_is_as_agreed() -> None:
    assert SESSION_COOKIE == "__Host-chatd_session"
    assert [f.name for f in dataclasses.fields(Principal)] == [
        "session_id", "user_id", "username", "display_name", "is_admin", "expires_at",
    ]
    assert Principal.__dataclass_params__.frozen  # type: ignore[attr-defined]


async def test_authenticate_and_revalidate(state: DaemonState) -> None:
    clock = clock_of(state)
    user = await make_user(state.db, "alice", is_admin=True)
    start = clock.now()
    new = await make_session(state.db, state.config, user.id, start)
    p = await state.sessions.authenticate(new.token)
    assert p == Principal(new.session_id, user.id, "alice", "alice", True, start + IDLE)

    clock.advance(TOUCH_SECS / 2)  # too soon to refresh last_seen
    same = await state.sessions.revalidate(p)
    assert same is not None and same.expires_at == start + IDLE

    clock.advance(TOUCH_SECS)
    later = await state.sessions.revalidate(p)
    assert later is not None
    assert later.expires_at == pytest.approx(clock.now() + IDLE, abs=1e-3)  # an open socket is use
    assert await state.sessions.authenticate(new.token) is not None


async def test_idle_and_absolute_expiry(state: DaemonState) -> None:
    clock = clock_of(state)
    user = await make_user(state.db, "alice")
    new = await make_session(state.db, state.config, user.id, clock.now())
    p = await state.sessions.authenticate(new.token)
    assert p is not None
    clock.advance(IDLE - 1)
    assert await state.sessions.revalidate(p) is not None  # refreshed: the idle clock restarts
    clock.advance(IDLE)
    assert await state.sessions.revalidate(p) is None
    assert await state.sessions.authenticate(new.token) is None

    other = await make_session(state.db, state.config, user.id, clock.now())
    p = await state.sessions.authenticate(other.token)
    assert p is not None
    while clock.now() + IDLE / 2 < other.expires_at:
        clock.advance(IDLE / 2)
        p2 = await state.sessions.revalidate(p)
        assert p2 is not None
        assert p2.expires_at <= other.expires_at  # never beyond the absolute lifetime
    clock.advance(other.expires_at - clock.now())
    assert await state.sessions.revalidate(p) is None


async def test_revoked_or_disabled_is_none(state: DaemonState) -> None:
    clock = clock_of(state)
    user = await make_user(state.db, "alice")
    a = await make_session(state.db, state.config, user.id, clock.now())
    b = await make_session(state.db, state.config, user.id, clock.now())
    pa = await state.sessions.authenticate(a.token)
    pb = await state.sessions.authenticate(b.token)
    assert pa is not None and pb is not None
    assert await session_store.revoke_session(state.db, session_id=a.session_id, now=clock.now())
    assert await state.sessions.revalidate(pa) is None
    assert await state.sessions.authenticate(a.token) is None
    assert await state.sessions.revalidate(pb) is not None
    await state.db.execute("t.disable", "UPDATE users SET disabled_at = now() WHERE id = $1", user.id)
    assert await state.sessions.revalidate(pb) is None
    assert await state.sessions.authenticate(b.token) is None


async def test_api_tokens_ignore_the_idle_timeout(state: DaemonState) -> None:
    clock = clock_of(state)
    user = await make_user(state.db, "bot")
    api = await make_session(state.db, state.config, user.id, clock.now(), kind="api")
    p = await state.sessions.authenticate(api.token)
    assert p is not None and p.expires_at == api.expires_at
    clock.advance(IDLE * 3)
    assert await state.sessions.revalidate(p) is not None
    clock.advance(MAX)
    assert await state.sessions.revalidate(p) is None


@pytest.mark.parametrize("token", ["", "x", "é" * 43, "a" * 10_000])
async def test_unknown_or_malformed_tokens(state: DaemonState, token: str) -> None:
    assert await state.sessions.authenticate(token) is None


async def test_a_principal_for_another_user_does_not_revalidate(state: DaemonState) -> None:
    clock = clock_of(state)
    alice = await make_user(state.db, "alice")
    new = await make_session(state.db, state.config, alice.id, clock.now())
    p = await state.sessions.authenticate(new.token)
    assert p is not None
    forged = dataclasses.replace(p, user_id=alice.id + 1)
    assert await state.sessions.revalidate(forged) is None


async def test_rotate_token_keeps_the_session(state: DaemonState) -> None:
    clock = clock_of(state)
    user = await make_user(state.db, "alice")
    new = await make_session(state.db, state.config, user.id, clock.now())
    token = await sessions.rotate_token(state.db, new.session_id)
    assert await state.sessions.authenticate(new.token) is None
    p = await state.sessions.authenticate(token)
    assert p is not None and p.session_id == new.session_id
