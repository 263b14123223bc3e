"""Account operations shared by the HTTP API and the admin CLI: register, log in, passwords.

They raise ``AuthError`` (one stable ``code``, an HTTP ``status``, a message for people) or
``FieldErrors`` (one ``FieldError`` per invalid field). Password work goes through ``Passwords``
(worker threads); the caller passes ``now`` from its clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from chatd.auth import tokens
from chatd.auth.names import (
    PASSWORD_MAX_CHARS,
    FieldError,
    check_display_name,
    check_invite_code,
    check_password,
    check_username,
    normalize_password,
    username_key,
)
from chatd.auth.passwords import Passwords
from chatd.auth.throttle import LoginThrottle, RegistrationThrottle
from chatd.store import Database, UniqueViolation
from chatd.store import invites as invite_store
from chatd.store import users as user_store
from chatd.store.users import UserRow

log = logging.getLogger("chatd.auth")

REGISTRATION_MODES = ("open", "invite", "closed")
THROTTLE_KEY_MAX_CHARS = 64  # bounds the throttle's memory per entry whatever is typed


@dataclass(frozen=True)
class Account:
    """A user as the rest of chatd sees it (no password hash)."""

    id: int
    username: str
    display_name: str
    is_admin: bool
    disabled: bool

    @classmethod
    def from_row(cls, row: UserRow) -> Account:
        return cls(row.id, row.username, row.display_name, row.is_admin, row.disabled)


class AuthError(Exception):
    """A refused account operation: ``code`` (stable), ``status`` (HTTP), ``message`` (people)."""

    def __init__(
        self, code: str, message: str, status: int = 400, *, field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.retry_after = retry_after


@dataclass
class FieldErrors(Exception):
    """Several fields are invalid; ``errors`` holds one ``FieldError`` per field, in form order."""

    errors: list[FieldError] = field(default_factory=list)
    status: int = 400

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self.errors)


INVALID_CREDENTIALS = "Wrong username or password."


def _invalid_credentials() -> AuthError:
    # One message, one status, one body for "no such user" and "wrong password".
    return AuthError("invalid_credentials", INVALID_CREDENTIALS, 401)


async def register(
    db: Database, passwords: Passwords, *, username: object, display_name: object, password: object,
    invite: object = None, mode: str, now: float, is_admin: bool = False,
    throttle: RegistrationThrottle | None = None, client_addr: str = "",
) -> Account:
    """Create an account and make it a member of ``#general``, in one transaction.

    ``mode`` is the configured registration mode, or ``"admin"`` for ``chatd user add`` (no
    invite needed, works when registration is closed). With a ``throttle`` (the HTTP API), an
    attempt with valid fields counts against ``client_addr``'s rate (and, in open mode, the
    server's). In invite mode the invite is checked before the username: an invalid invite must
    not reveal which usernames exist. Raises ``AuthError`` (``registration_closed``,
    ``rate_limited``, ``invite_invalid``, ``username_taken``) or ``FieldErrors``.
    """
    if mode == "closed":
        raise AuthError(
            "registration_closed", "Registration is closed on this server; ask an admin for an account.", 403
        )
    errors: list[FieldError] = []
    valid_username = valid_display = valid_password = None
    invite_code: str | None = None
    try:
        valid_username = check_username(username)
    except FieldError as exc:
        errors.append(exc)
    try:
        valid_display = check_display_name(display_name)
    except FieldError as exc:
        errors.append(exc)
    try:
        valid_password = check_password(password)
    except FieldError as exc:
        errors.append(exc)
    if mode == "invite":
        try:
            invite_code = check_invite_code(invite, required=True)
        except FieldError as exc:
            errors.append(exc)
    if errors or valid_username is None or valid_display is None or valid_password is None:
        raise FieldErrors(errors)

    if throttle is not None:
        wait = throttle.attempt(client_addr, now, open_mode=mode == "open")
        if wait > 0:
            raise AuthError(
                "rate_limited", f"Too many registrations; try again in {int(wait) + 1} s.", 429, retry_after=wait
            )
    # Cheap checks before the expensive hash; the unique index and the invite's row lock below
    # are what actually decide a race. The invite first: without a valid one, nothing is said
    # about the username.
    invite_hash = tokens.digest(invite_code) if invite_code is not None else None
    if invite_hash is not None and not await invite_store.invite_usable(db, invite_hash, now):
        raise _invite_invalid()
    if await user_store.username_key_exists(db, valid_username.key):
        raise _username_taken()

    password_hash = await passwords.hash(valid_password, registering=True)
    try:
        async with db.transaction("auth.register") as tx:
            invite_id = None
            if invite_hash is not None:
                invite_id = await invite_store.consume_invite(tx, invite_hash, now)
                if invite_id is None:
                    raise _invite_invalid()
            user_id = await user_store.insert_user(
                tx, username=valid_username.name, username_key=valid_username.key, display_name=valid_display,
                password_hash=password_hash, is_admin=is_admin, now=now,
            )
            await user_store.add_user_to_default_channel(tx, user_id)
            if invite_id is not None:
                await invite_store.set_invite_user(tx, invite_id, user_id)
    except UniqueViolation as exc:
        if exc.constraint == "users_username_key_uq":
            raise _username_taken() from None
        raise
    log.info("event=auth.registered user_id=%d invite=%s", user_id, invite_id is not None)
    return Account(user_id, valid_username.name, valid_display, is_admin, False)


def _username_taken() -> AuthError:
    return AuthError("username_taken", "This username is taken; choose another.", 409, field="username")


def _invite_invalid() -> AuthError:
    return AuthError(
        "invite_invalid", "This invite code is not valid (unknown, used, expired or revoked).", 400, field="invite"
    )


def throttle_key(username: str) -> str:
    """The throttle's account key for what was typed (normalised like usernames, bounded)."""
    return username_key(username.strip())[:THROTTLE_KEY_MAX_CHARS]


async def login(
    db: Database, passwords: Passwords, throttle: LoginThrottle, *, username: object, password: object,
    client_addr: str, now: float,
) -> Account:
    """Check a username and password; returns the account or raises ``AuthError``.

    Unknown user and wrong password raise the same ``invalid_credentials`` after the same
    argon2 work (a dummy verify for unknown users). A blocked account or address raises
    ``rate_limited`` before any password is checked. A correct password for a disabled account
    raises ``account_disabled``. Rehashes the password when the parameters changed.
    """
    if not isinstance(username, str):
        raise FieldErrors([FieldError("username_invalid", "username", "Enter your username.")])
    if not isinstance(password, str):
        raise FieldErrors([FieldError("password_invalid", "password", "Enter your password.")])
    key = throttle_key(username)
    wait = throttle.retry_after(key, client_addr, now)
    if wait > 0:
        raise AuthError(
            "rate_limited", f"Too many failed attempts; try again in {int(wait) + 1} s.", 429, retry_after=wait
        )
    normalised = normalize_password(password)
    row = await user_store.get_user_by_key(db, username_key(username.strip()))
    if row is None or len(normalised) > PASSWORD_MAX_CHARS:
        # Still pay for a verify: the time taken must not say whether the user exists.
        await passwords.verify_dummy(normalised)
        throttle.failed(key, client_addr, now)
        log.info("event=auth.login_failed reason=unknown_user addr=%s", client_addr)
        raise _invalid_credentials()
    if not await passwords.verify(row.password_hash, normalised):
        throttle.failed(key, client_addr, now)
        log.info("event=auth.login_failed reason=wrong_password user_id=%d addr=%s", row.id, client_addr)
        raise _invalid_credentials()
    throttle.succeeded(key)
    if row.disabled:
        raise AuthError("account_disabled", "This account is disabled; ask an admin.", 403)
    if passwords.needs_rehash(row.password_hash):
        new_hash = await passwords.hash(normalised)
        if await user_store.set_password_hash(db, row.id, new_hash, expected_old=row.password_hash):
            log.info("event=auth.rehashed user_id=%d", row.id)
    return Account.from_row(row)


async def change_password(
    db: Database, passwords: Passwords, throttle: LoginThrottle, *, user_id: int, current: object, new: object,
    client_addr: str, now: float,
) -> None:
    """The user changes their own password, proving the current one (throttled like a login).

    Raises ``FieldErrors`` for an invalid new password (field ``new``), ``AuthError``
    ``invalid_credentials`` (field ``current``) or ``rate_limited``. Ending other sessions is
    the caller's job.
    """
    if not isinstance(current, str):
        raise FieldErrors([FieldError("password_invalid", "current", "Enter your current password.")])
    try:
        new_password = check_password(new, field="new")
    except FieldError as exc:
        raise FieldErrors([exc]) from None
    row = await user_store.get_user_by_id(db, user_id)
    if row is None:
        raise AuthError("not_authenticated", "Log in first.", 401)
    key = throttle_key(row.username)
    wait = throttle.retry_after(key, client_addr, now)
    if wait > 0:
        raise AuthError(
            "rate_limited", f"Too many failed attempts; try again in {int(wait) + 1} s.", 429, retry_after=wait
        )
    if not await passwords.verify(row.password_hash, normalize_password(current)):
        throttle.failed(key, client_addr, now)
        raise AuthError("invalid_credentials", "The current password is wrong.", 403, field="current")
    throttle.succeeded(key)
    await user_store.set_password_hash(db, user_id, await passwords.hash(new_password))
    log.info("event=auth.password_changed user_id=%d", user_id)
