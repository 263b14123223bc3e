"""The pure rules: usernames, display names, passwords, tokens, the throttle (no I/O)."""

from __future__ import annotations

import unicodedata

import pytest

from chatd.auth import tokens
from chatd.auth.names import (
    FieldError,
    check_display_name,
    check_invite_code,
    check_password,
    check_username,
    username_key,
)
from chatd.auth.throttle import (
    ACCOUNT_CAP_SECS,
    ACCOUNT_FREE_FAILURES,
    ADDRESS_FREE_FAILURES,
    FORGET_SECS,
    Backoff,
    LoginThrottle,
    address_key,
)

# --- usernames ---


@pytest.mark.parametrize(
    "name",
    ["al", "a" * 32, "alice", "Alice.B_c-d", "0day", "Ünïcödé", "名前", "Борис", "محمد", "नमस्ते", "ａｂｃ", "d1-2"],
)
def test_valid_usernames(name: str) -> None:
    assert check_username(name).name == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("a", "too short"),
        ("a" * 33, "too long"),
        ("", "empty"),
        ("   ", "only spaces"),
        ("al ice", "space"),
        ("al@ice", "symbol"),
        ("alice!", "punctuation"),
        ("_alice", "leading punctuation"),
        (".alice", "leading dot"),
        ("\u0301abc", "leading combining mark"),
        ("ali\u200bce", "zero-width space"),
        ("ali\u202ece", "bidi override"),
        ("ali\x00ce", "NUL"),
        ("a\ud800b", "lone surrogate"),
        ("😀😀", "emoji"),
        ("x²", "superscript digit"),
        ("ⅫⅫ", "roman numeral"),
        ("\ufdfa", "ligature that NFKC expands to words with spaces"),
        (None, "missing"),
        (42, "not a string"),
    ],
)
def test_invalid_usernames(name: object, why: str) -> None:
    with pytest.raises(FieldError) as info:
        check_username(name)
    assert info.value.code == "username_invalid", why
    assert info.value.field == "username"
    assert info.value.message


def test_username_length_counts_characters_not_bytes() -> None:
    assert check_username("é" * 32).name == "é" * 32  # 64 UTF-8 bytes
    # "e" + combining acute is one character after NFC.
    assert check_username("e\u0301" * 32).name == "é" * 32
    with pytest.raises(FieldError):
        check_username("é" * 33)


def test_username_outer_whitespace_is_ignored() -> None:
    assert check_username("  alice \t").name == "alice"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Alice", "alice"),
        ("ALICE", "aLiCe"),
        ("Straße", "STRASSE"),  # ß folds to ss
        ("strasse", "STRAẞE"),  # capital sharp s
        ("ｆｏｏ", "foo"),  # full-width forms
        ("\u212aelvin", "kelvin"),  # KELVIN SIGN
        ("café", "cafe\u0301"),  # composed vs decomposed
        ("ﬁsh", "fish"),  # ligature
        ("İstanbul", "i\u0307stanbul"),  # dotted capital I folds to i + combining dot
    ],
)
def test_usernames_equal_after_normalisation_share_a_key(a: str, b: str) -> None:
    assert check_username(a).key == check_username(b).key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("İstanbul", "istanbul"),  # Turkish: İ and i are different letters
        ("ıstanbul", "istanbul"),  # dotless ı is not i
        ("alice", "alíce"),
        ("pаypal", "paypal"),  # Cyrillic а: a confusable, not an equivalent (see docs)
    ],
)
def test_distinct_usernames_keep_distinct_keys(a: str, b: str) -> None:
    assert check_username(a).key != check_username(b).key


def test_username_keeps_the_chosen_spelling() -> None:
    u = check_username("Straße")
    assert (u.name, u.key) == ("Straße", "strasse")
    assert username_key("ÅNGSTRÖM") == username_key("ångström")


# --- display names ---


@pytest.mark.parametrize(
    "name",
    [
        "A",
        "x" * 64,
        "Alice Liddell",
        "Zoë 🦊",
        "👩‍👩‍👧‍👦",  # ZWJ family emoji
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿",  # flag with tag characters
        "שלום עולם",  # RTL
        "مرحبا",
        "Dr. Who (the 13th)",
        "Ｆｕｌｌ",  # kept as typed (NFC, not NFKC)
        "ǅemal",
    ],
)
def test_valid_display_names(name: str) -> None:
    assert check_display_name(name) == unicodedata.normalize("NFC", name)


def test_display_name_is_nfc_and_trimmed() -> None:
    assert check_display_name("  Zoe\u0308  ") == "Zoë"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("   ", "white space only"),
        ("x" * 65, "too long"),
        ("bad\x07bell", "control character"),
        ("line\nbreak", "newline"),
        ("tab\there", "tab"),
        ("evil\u202eoverride", "RLO"),
        ("evil\u2066isolate", "LRI"),
        ("mark\u200fhere", "RLM"),
        ("line\u2028sep", "line separator"),
        ("\ufeffbom", "BOM"),
        ("\u200b", "nothing visible (ZWSP)"),
        ("\u200d\u200d", "nothing visible (ZWJ)"),
        ("\u0301accent first", "leading combining mark"),
        ("Z" + "\u0336" * 7, "zalgo"),
        ("Z" + "\u0301" * 8, "zalgo, one composed away"),
        ("a\udc00b", "lone surrogate"),
        (None, "missing"),
        (["list"], "not a string"),
    ],
)
def test_invalid_display_names(name: object, why: str) -> None:
    with pytest.raises(FieldError) as info:
        check_display_name(name)
    assert info.value.code == "display_name_invalid", why
    assert info.value.field == "display_name"


def test_display_name_length_counts_code_points_after_nfc() -> None:
    assert check_display_name("e\u0301" * 64) == "é" * 64
    with pytest.raises(FieldError):
        check_display_name("😀" * 65)
    assert check_display_name("😀" * 64) == "😀" * 64


def test_a_few_stacked_marks_are_fine() -> None:
    # Hebrew with vowel point and cantillation, Vietnamese with two marks.
    assert check_display_name("שָׁ֑לוֹם")
    assert check_display_name("Nguyê\u0303n")


# --- passwords ---


def test_password_limits() -> None:
    assert check_password("x" * 8) == "x" * 8
    assert check_password("x" * 1024) == "x" * 1024
    with pytest.raises(FieldError) as short:
        check_password("x" * 7)
    assert (short.value.code, short.value.field) == ("password_too_short", "password")
    with pytest.raises(FieldError) as long:
        check_password("x" * 1025)
    assert long.value.code == "password_too_long"
    with pytest.raises(FieldError) as empty:
        check_password("")
    assert empty.value.code == "password_too_short"


def test_password_has_no_composition_rules() -> None:
    for pw in ("aaaaaaaa", "        ", "passwordpassword", "🔑🔑🔑🔑🔑🔑🔑🔑", "contraseña"):
        assert check_password(pw)


def test_password_is_nfkc_normalised() -> None:
    assert check_password("café-au-lait") == check_password("cafe\u0301-au-lait")
    assert check_password("ｐａｓｓｗｏｒｄ") == "password"


def test_password_with_lone_surrogate_is_refused() -> None:
    with pytest.raises(FieldError) as info:
        check_password("abcdefgh\ud800")
    assert info.value.code == "password_invalid"


def test_password_not_a_string() -> None:
    with pytest.raises(FieldError) as info:
        check_password(12345678, field="new")
    assert (info.value.code, info.value.field) == ("password_invalid", "new")


def test_invite_code_rules() -> None:
    assert check_invite_code(None, required=False) is None
    assert check_invite_code("  ", required=False) is None
    assert check_invite_code(" abc ", required=True) == "abc"
    with pytest.raises(FieldError) as missing:
        check_invite_code(None, required=True)
    assert missing.value.code == "invite_required"
    for bad in ("x" * 65, 7, "a\ud800"):
        with pytest.raises(FieldError) as info:
            check_invite_code(bad, required=True)
        assert info.value.code == "invite_invalid"


# --- tokens ---


def test_tokens_are_256_bit_and_distinct() -> None:
    seen = {tokens.new_token() for _ in range(200)}
    assert len(seen) == 200
    for t in seen:
        assert len(t) == 43  # 32 bytes in unpadded base64url
        assert tokens.plausible_token(t)


def test_token_digest_is_sha256() -> None:
    import hashlib

    assert tokens.digest("abc") == hashlib.sha256(b"abc").digest()
    assert len(tokens.digest(tokens.new_token())) == 32


@pytest.mark.parametrize("bad", ["", "x" * 129, "tökén", None, 5, b"bytes"])
def test_implausible_tokens(bad: object) -> None:
    assert not tokens.plausible_token(bad)


# --- throttle ---


def test_backoff_is_free_then_exponential_then_capped() -> None:
    b = Backoff(free_failures=3, base_secs=1, cap_secs=10, forget_secs=100, max_entries=10)
    now = 1000.0
    for _ in range(3):
        b.failed("k", now)
        assert b.retry_after("k", now) == 0
    delays = []
    for _ in range(6):
        b.failed("k", now)
        delays.append(b.retry_after("k", now))
    assert delays == [1, 2, 4, 8, 10, 10]
    assert b.retry_after("k", now + 10) == 0
    assert b.retry_after("other", now) == 0


def test_backoff_forgets_after_quiet_period() -> None:
    b = Backoff(free_failures=1, base_secs=1, cap_secs=10, forget_secs=100, max_entries=10)
    b.failed("k", 0)
    b.failed("k", 0)
    assert b.retry_after("k", 0) == 1
    b.failed("k", 201)  # long after: counts as the first failure again
    assert b.retry_after("k", 201) == 0


def test_backoff_memory_is_bounded() -> None:
    b = Backoff(free_failures=0, base_secs=1, cap_secs=10, forget_secs=100, max_entries=3)
    for i in range(10):
        b.failed(f"k{i}", 0)
    assert len(b) == 3
    assert b.retry_after("k9", 0) > 0
    assert b.retry_after("k0", 0) == 0  # the stalest were evicted


def test_login_throttle_per_account_and_address() -> None:
    t = LoginThrottle()
    now = 0.0
    for _ in range(ACCOUNT_FREE_FAILURES):
        t.failed("alice", "10.0.0.1", now)
    assert t.retry_after("alice", "10.0.0.2", now) == 0
    t.failed("alice", "10.0.0.1", now)
    # The account is blocked from any address; another account from that address is not yet.
    assert t.retry_after("alice", "10.0.0.9", now) == 1
    assert t.retry_after("bob", "10.0.0.1", now) == 0
    t.succeeded("alice")
    assert t.retry_after("alice", "10.0.0.9", now) == 0


def test_login_throttle_address_blocks_every_account() -> None:
    t = LoginThrottle()
    for i in range(ADDRESS_FREE_FAILURES + 1):
        t.failed(f"user{i}", "192.0.2.7", 0.0)
    assert t.retry_after("someone-else", "192.0.2.7", 0.0) > 0
    t.succeeded("user0")  # success does not reset the address (see module docstring)
    assert t.retry_after("someone-else", "192.0.2.7", 0.0) > 0
    assert t.retry_after("someone-else", "192.0.2.7", FORGET_SECS + 1) == 0


def test_login_throttle_cap() -> None:
    t = LoginThrottle()
    for _ in range(60):
        t.failed("alice", f"10.1.{_}.1", 0.0)
    assert t.retry_after("alice", "10.9.9.9", 0.0) == ACCOUNT_CAP_SECS


def test_address_key_groups_ipv6_by_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1"
    assert address_key("not-an-ip") == "not-an-ip"
