"""Error codes, close codes and the exception the wire codec raises.

The codes are part of the protocol (see protocol/PROTOCOL.md, "Error codes"): clients branch on
them, so a code is never renamed or reused for another meaning.
"""

from __future__ import annotations

from typing import Final

# --- Error codes (the "code" field of an error frame) ----------------------------------------
BAD_FRAME: Final = "bad_frame"
UNKNOWN_OP: Final = "unknown_op"
UNSUPPORTED_VERSION: Final = "unsupported_version"
NOT_AUTHENTICATED: Final = "not_authenticated"
HELLO_REQUIRED: Final = "hello_required"
NOT_FOUND: Final = "not_found"
NOT_MEMBER: Final = "not_member"
NAME_TAKEN: Final = "name_taken"
INVALID_NAME: Final = "invalid_name"
TOO_LARGE: Final = "too_large"
EMPTY_BODY: Final = "empty_body"
BAD_LIMIT: Final = "bad_limit"
USER_NOT_FOUND: Final = "user_not_found"
FORBIDDEN: Final = "forbidden"
ALREADY_MEMBER: Final = "already_member"
UNAVAILABLE: Final = "unavailable"
RATE_LIMITED: Final = "rate_limited"
FILE_NOT_FOUND: Final = "file_not_found"
TOO_MANY_CONNECTIONS: Final = "too_many_connections"

#: Every error code of protocol v1.
ERROR_CODES: Final = frozenset(
    {
        BAD_FRAME,
        UNKNOWN_OP,
        UNSUPPORTED_VERSION,
        NOT_AUTHENTICATED,
        HELLO_REQUIRED,
        NOT_FOUND,
        NOT_MEMBER,
        NAME_TAKEN,
        INVALID_NAME,
        TOO_LARGE,
        EMPTY_BODY,
        BAD_LIMIT,
        USER_NOT_FOUND,
        FORBIDDEN,
        ALREADY_MEMBER,
        UNAVAILABLE,
        RATE_LIMITED,
        FILE_NOT_FOUND,
        TOO_MANY_CONNECTIONS,
    }
)

# --- WebSocket close codes ---------------------------------------------------------------------
CLOSE_GOING_AWAY: Final = 1001  # server shutting down; reconnect with backoff
CLOSE_UNSUPPORTED_DATA: Final = 1003  # a text frame arrived; the protocol is binary only
CLOSE_TOO_BIG: Final = 1009  # a client frame exceeded the frame limit
CLOSE_INTERNAL_ERROR: Final = 1011  # a bug in the server while serving a request; reconnect
CLOSE_TRY_AGAIN_LATER: Final = 1013  # the user has too many connections open; back off, retry
CLOSE_UNAUTHENTICATED: Final = 4001  # no or invalid credentials, or the session expired
CLOSE_ORIGIN_REFUSED: Final = 4003  # reserved: the Origin check answers HTTP 403 before accept
CLOSE_SLOW_CONSUMER: Final = 4008  # the outbound queue overflowed; resume after reconnecting
CLOSE_PROTOCOL_ERROR: Final = 4400  # unsupported version, or repeated/flooding bad frames


def clip(text: str, limit: int = 40) -> str:
    """Shorten client-supplied text quoted in an error message (frames may be 64 KiB)."""
    return text if len(text) <= limit else text[:limit] + "…"


class ProtocolError(Exception):
    """A frame the codec refuses.

    ``code`` is one of :data:`ERROR_CODES`; ``message`` is for humans (never parse it).
    ``rid`` is the request id when the frame was a decodable map with a valid ``rid``, so the
    server can answer ``{"op": "error", "rid": rid, "code": code, "message": message}``; it is
    ``None`` otherwise (the error frame then has no ``rid``). ``close_code`` is not ``None`` when
    the server must close the WebSocket with that code instead of (or after) answering.
    """

    close_code: int | None = None

    def __init__(
        self, code: str, message: str, rid: int | None = None, *, close_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rid = rid
        if close_code is not None:
            self.close_code = close_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, rid={self.rid!r})"


class FrameTooLarge(ProtocolError):
    """A client frame longer than the frame limit; refused before any decoding.

    The server closes the connection with 1009 (:data:`CLOSE_TOO_BIG`) rather than answering,
    since nothing of the frame (not even its rid) was read. Its code is ``too_large``.
    """

    close_code = CLOSE_TOO_BIG

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(TOO_LARGE, f"frame of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit
