"""Shared fixtures and helpers of the ``test_auth_*`` files (this module has no tests).

``fast_passwords`` swaps argon2's parameters for cheap ones so that a test can register dozens
of users; the production parameters are checked in ``test_auth_passwords``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import argon2
import pytest
import trio

from chatd.auth import passwords
from chatd.auth.accounts import Account, register
from chatd.auth.passwords import Passwords
from chatd.auth.sessions import SESSION_COOKIE, NewSession, create_session
from chatd.clock import Clock
from chatd.config import Config
from chatd.store import Database
from tests.helpers.server import Response, RunningServer, run_test_server

# argon2id at 1 MiB, one pass, one lane: ~1 ms. Tests only.
FAST_PARAMETERS = argon2.Parameters(
    type=argon2.Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=1024, parallelism=1
)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters for this test (servers and CLI started in it use them)."""
    monkeypatch.setattr(passwords, "PARAMETERS", FAST_PARAMETERS)
    yield


def cookie_token(resp: Response) -> str:
    """The session token set by ``resp`` (fails the test if there is none)."""
    for header in resp.cookies:
        m = re.match(rf"{re.escape(SESSION_COOKIE)}=([^;]*)", header)
        if m and m.group(1):
            return m.group(1)
    raise AssertionError(f"no session cookie in {resp.cookies!r}")


def cookie_header(token: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={token}"}


@dataclass
class Client:
    """A browser-like client of a test server: sends Origin on writes and keeps its cookie."""

    server: RunningServer
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        h = dict(self.headers)
        if self.token:
            h.update(cookie_header(self.token))
        h.update(extra or {})
        return h

    def _keep_cookie(self, resp: Response) -> Response:
        for header in resp.cookies:
            m = re.match(rf"{re.escape(SESSION_COOKIE)}=([^;]*)", header)
            if m:
                self.token = m.group(1) or None
        return resp

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self._keep_cookie(await self.server.get(path, headers=self._headers(headers)))

    async def post(self, path: str, json_body: Any = None, headers: dict[str, str] | None = None,
                   **kw: Any) -> Response:
        if json_body is not None:
            kw["json_body"] = json_body
        return self._keep_cookie(await self.server.post(path, headers=self._headers(headers), **kw))

    async def delete(self, path: str, headers: dict[str, str] | None = None) -> Response:
        from tests.helpers.server import http_request

        h = self._headers(headers)
        h.setdefault("Origin", self.server.origin)
        return self._keep_cookie(await http_request("DELETE", self.server.url + path, headers=h))

    async def register(self, username: str, password: str = PASSWORD, display_name: str | None = None,
                       **extra: Any) -> Response:
        body = {"username": username, "display_name": display_name or username, "password": password, **extra}
        return await self.post("/api/register", body)

    async def login(self, username: str, password: str = PASSWORD) -> Response:
        return await self.post("/api/login", {"username": username, "password": password})


async def make_user(db: Database, username: str, password: str = PASSWORD, *, is_admin: bool = False,
                    now: float | None = None) -> Account:
    """An account created directly through the service (mode ``admin``), cheap parameters."""
    return await register(
        db, Passwords(FAST_PARAMETERS), username=username, display_name=username, password=password,
        mode="admin", now=Clock().now() if now is None else now, is_admin=is_admin,
    )


async def make_session(db: Database, config: Config, user_id: int, now: float, kind: str = "web") -> NewSession:
    """A session straight in the store, as a login at ``now`` would create it."""
    return await create_session(
        db, user_id=user_id, now=now, lifetime_secs=config.session_max_secs, client_addr="127.0.0.1",
        user_agent="tests", kind=kind,
    )


@dataclass(eq=False)
class FakeConnection:
    """Stands in for a gateway connection in ``state.connections`` (records how it was ended)."""

    session_id: int
    user_id: int
    ended: trio.Event = field(default_factory=trio.Event)
    code: int | None = None
    pushed_session_expired: bool = False

    def end(self, code: int, reason: str, push_session_expired: bool) -> None:
        self.code = code
        self.pushed_session_expired = push_session_expired
        self.ended.set()


@asynccontextmanager
async def server_with(
    server_config: Config, db: Database, nursery: trio.Nursery, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[RunningServer]:
    """A test server whose configuration differs from the default one by ``overrides``."""
    async with run_test_server(replace(server_config, **overrides), db, nursery, clock) as running:
        yield running
