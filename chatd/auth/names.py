"""Usernames, display names and passwords: the rules, as pure functions (no I/O).

Each ``check_*`` function returns the normalised value or raises ``FieldError`` with a stable
code, the field's name and a message for the person typing. The rules are documented for users
in docs/accounts.md; keep the two in step.

Usernames: the chosen spelling is kept (NFC) and shown; uniqueness is decided on the *key*,
``NFKC(casefold(NFKC(name)))`` (Unicode's "NFKC_Casefold" recipe), so ``Straße``/``STRASSE``,
``ｆｏｏ``/``foo`` and ``K`` (Kelvin sign)/``k`` are the same name, while ``İ`` (which folds to
``i`` + U+0307) and ``i`` stay different, as Turkish readers expect.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

USERNAME_MIN_CHARS = 2
USERNAME_MAX_CHARS = 32
USERNAME_PUNCTUATION = frozenset("._-")
DISPLAY_NAME_MIN_CHARS = 1
DISPLAY_NAME_MAX_CHARS = 64
# NIST SP 800-63B: at least 8, no composition rules, accept long passphrases. The upper bound
# only keeps a single request's hashing work bounded; argon2 digests any length equally fast.
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 1024
# Real scripts stack at most three or four combining marks on one base letter (Hebrew with
# points and cantillation, Vietnamese, Thai); "Zalgo" text stacks dozens to overflow its line.
MAX_COMBINING_RUN = 6
INVITE_MAX_CHARS = 64

# Characters that reorder the text around them (Trojan-Source style): embeddings, overrides,
# isolates, and the invisible directional marks. A display name never needs them.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Invisible or structure-breaking characters refused in display names besides the categories.
DISPLAY_NAME_FORBIDDEN = BIDI_CONTROLS | frozenset("\ufeff\u2028\u2029")


@dataclass(frozen=True)
class FieldError(Exception):
    """One invalid input field: ``code`` is stable (API), ``message`` is for people."""

    code: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Username:
    """A valid username: ``name`` as chosen (NFC), ``key`` what uniqueness compares."""

    name: str
    key: str


def username_key(text: str) -> str:
    """The uniqueness key of a username (NFKC_Casefold). Total: works on any string."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _username_char_ok(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "LM" or cat == "Nd" or ch in USERNAME_PUNCTUATION


def check_username(value: object) -> Username:
    """Validate a username; leading and trailing white space is ignored.

    2–32 characters (code points, after NFC) from letters and combining marks of any script,
    decimal digits of any script, and ``.``, ``_``, ``-``; the first must be a letter or digit.
    """
    if not isinstance(value, str):
        raise FieldError("username_invalid", "username", "Choose a username.")
    name = unicodedata.normalize("NFC", value.strip())
    if not name:
        raise FieldError("username_invalid", "username", "Choose a username.")
    if len(name) < USERNAME_MIN_CHARS:
        raise FieldError(
            "username_invalid", "username", f"A username needs at least {USERNAME_MIN_CHARS} characters."
        )
    if len(name) > USERNAME_MAX_CHARS:
        raise FieldError(
            "username_invalid", "username", f"A username can have at most {USERNAME_MAX_CHARS} characters."
        )
    key = username_key(name)
    if not all(_username_char_ok(ch) for ch in name) or not all(_username_char_ok(ch) for ch in key):
        raise FieldError(
            "username_invalid",
            "username",
            "A username can contain letters, digits, '.', '_' and '-' only (no spaces or symbols).",
        )
    first = unicodedata.category(name[0])
    if not (first[0] == "L" or first == "Nd"):
        raise FieldError("username_invalid", "username", "A username must start with a letter or a digit.")
    return Username(name, key)


def check_display_name(value: object) -> str:
    """Validate a display name; returns it NFC-normalised with outer white space removed.

    1–64 characters of any script, emoji welcome. Refused: control characters, bidirectional
    overrides/isolates/marks, line and paragraph separators, a byte-order mark, unpaired
    surrogates, names with nothing visible, a leading combining mark, and more than
    ``MAX_COMBINING_RUN`` combining marks in a row.
    """
    if not isinstance(value, str):
        raise FieldError("display_name_invalid", "display_name", "Choose a display name.")
    name = unicodedata.normalize("NFC", value.strip())
    if len(name) < DISPLAY_NAME_MIN_CHARS:
        raise FieldError("display_name_invalid", "display_name", "Choose a display name.")
    if len(name) > DISPLAY_NAME_MAX_CHARS:
        raise FieldError(
            "display_name_invalid",
            "display_name",
            f"A display name can have at most {DISPLAY_NAME_MAX_CHARS} characters.",
        )
    run = 0
    visible = False
    for i, ch in enumerate(name):
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs") or ch in DISPLAY_NAME_FORBIDDEN:
            raise FieldError(
                "display_name_invalid",
                "display_name",
                "A display name cannot contain control characters or text-direction overrides.",
            )
        if cat in ("Mn", "Me"):
            if i == 0:
                raise FieldError(
                    "display_name_invalid", "display_name", "A display name cannot start with a combining mark."
                )
            run += 1
            if run > MAX_COMBINING_RUN:
                raise FieldError(
                    "display_name_invalid", "display_name", "Too many combining marks on one character."
                )
        else:
            run = 0
        visible = visible or cat[0] in "LNPS"
    if not visible:
        raise FieldError("display_name_invalid", "display_name", "A display name needs a visible character.")
    return name


def check_password(value: object, field: str = "password") -> str:
    """Validate a new password; returns the NFKC form that is hashed.

    NIST SP 800-63B: 8–1024 characters, any characters, no composition rules. NFKC makes the
    same passphrase typed on another keyboard or system (composed or decomposed accents,
    full-width forms) verify the same. ``field`` names the field in errors (``new`` for a change).
    """
    if not isinstance(value, str):
        raise FieldError("password_invalid", field, f"Choose a password of at least {PASSWORD_MIN_CHARS} characters.")
    password = normalize_password(value)
    if len(password) < PASSWORD_MIN_CHARS:
        raise FieldError(
            "password_too_short", field, f"A password needs at least {PASSWORD_MIN_CHARS} characters."
        )
    if len(password) > PASSWORD_MAX_CHARS:
        raise FieldError(
            "password_too_long", field, f"A password can have at most {PASSWORD_MAX_CHARS} characters."
        )
    if not is_encodable(password):
        raise FieldError("password_invalid", field, "The password contains characters that cannot be stored.")
    return password


def normalize_password(value: str) -> str:
    """The form of a password that is hashed and verified (NFKC)."""
    return unicodedata.normalize("NFKC", value)


def is_encodable(text: str) -> bool:
    """True iff ``text`` is valid Unicode text (no unpaired surrogates), i.e. encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_invite_code(value: object, required: bool) -> str | None:
    """An invite code as typed (outer white space removed), None when absent and not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError("invite_required", "invite", "An invite code is required to register here.")
        return None
    if not isinstance(value, str) or len(value) > INVITE_MAX_CHARS or not is_encodable(value):
        raise FieldError("invite_invalid", "invite", "This invite code is not valid.")
    return value.strip()
