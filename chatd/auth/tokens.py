"""Secrets handed to clients, and the digests the database keeps instead (pure, no I/O).

A session or API token is 256 bits from the OS CSPRNG, sent as URL-safe base64 (43 characters).
The database stores only ``SHA-256(token)``: a leaked database or backup does not let anyone log
in. A plain hash (not argon2) is right here because the token has full entropy: there is nothing
to brute-force, and the lookup must be an index probe on every request.

Invite codes are shorter (120 bits, 20 characters) since people paste them; same storage rule.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits, as the issue asks
INVITE_BYTES = 15  # 120 bits: unguessable, and still short enough to read out
MAX_TOKEN_CHARS = 128  # anything longer is not one of ours: refused without a database query


def new_token() -> str:
    """A fresh session/API token (URL-safe base64 of 32 random bytes)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_invite_code() -> str:
    """A fresh one-time invite code (URL-safe base64 of 15 random bytes)."""
    return secrets.token_urlsafe(INVITE_BYTES)


def digest(secret: str) -> bytes:
    """SHA-256 of ``secret`` (UTF-8): what the database stores and looks up."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def plausible_token(token: object) -> bool:
    """True iff ``token`` could be one of our tokens (a non-empty, bounded ASCII string)."""
    return isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_CHARS and token.isascii()
