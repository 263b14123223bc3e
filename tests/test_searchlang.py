"""The pure parts of search: the query language, snippets, cursors (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chatd.handlers.search import Cursor
from chatd.render import SNIPPET_CHARS, snippet_of
from chatd.searchlang import (
    EXACT,
    EXCLUDED,
    MARKER,
    MAX_TERMS,
    PREFIX,
    parse,
    respelled,
    with_mentions_of,
    without,
)
from chatd.store.search import Position


def _terms(q: str) -> list[tuple[str, int, int]]:
    return [(t.text, t.mode, t.group) for t in parse(q).terms]


def test_words_phrases_prefixes_exclusions_and_or() -> None:
    assert _terms('deploy "disk full" -test -"not this" prod* a OR b') == [
        ("deploy", 0, 1), ("disk full", EXACT, 2), ("test", EXCLUDED, 3), ("not this", EXACT | EXCLUDED, 4),
        ("prod", PREFIX, 5), ("a", 0, 6), ("b", 0, 6),
    ]
    assert _terms("a OR b OR c d") == [("a", 0, 1), ("b", 0, 1), ("c", 0, 1), ("d", 0, 2)]
    assert _terms("OR a OR") == [("a", 0, 1)]
    assert _terms("-a OR b") == [("a", EXCLUDED, 1), ("b", 0, 2)], "an exclusion has no alternatives"
    assert _terms("has:link OR b") == [(" has:link", MARKER, 1), ("b", 0, 2)]
    assert _terms('"unterminated phrase') == [("unterminated phrase", EXACT, 1)]
    assert _terms("- * -* ** \"\" “”") == []


def test_operators() -> None:
    q = parse('from:@alice from:bob -from:carol in:#ops in:"two words" -in:#random has:link -has:image is:mention')
    assert (q.from_users, q.not_from, q.in_channels, q.not_in) == (("alice", "bob"), ("carol",),
                                                                   ("ops", "two words"), ("random",))
    assert [(t.text, t.mode) for t in q.terms] == [(" has:link", MARKER), (" has:image", MARKER | EXCLUDED),
                                                   (" @me", MARKER), (" @all", MARKER)]
    # is:mention: my id's marker or everyone's, as alternatives (one group)
    terms = with_mentions_of(q, 42).terms
    assert [(t.text, t.mode) for t in terms][-2:] == [(" @42", MARKER), (" @all", MARKER)]
    assert terms[-2].group == terms[-1].group
    q = parse("dm:@bob -dm:carol")
    assert (q.dm_users, q.not_dm) == (("bob",), ("carol",))
    # not operators: unknown names, bad values, no value, URLs
    assert _terms("foo:bar has:kittens is:weird before:someday from: https://x.org/a") == [
        ("foo:bar", 0, 1), ("has:kittens", 0, 2), ("is:weird", 0, 3), ("before:someday", 0, 4), ("from:", 0, 5),
        ("https://x.org/a", 0, 6)]


def test_dates_are_spans_in_the_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    q = parse("on:2024-03-31", "Europe/Berlin")  # the day the clocks go forward: 23 hours
    assert (q.since, q.until) == (datetime(2024, 3, 31, tzinfo=berlin), datetime(2024, 4, 1, tzinfo=berlin))
    q = parse("after:2024-02 before:2025", "Nowhere/Unknown")
    assert (q.since, q.until) == (datetime(2024, 3, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    q = parse("after:2024-12-31 before:2024-06-01")  # contradictory: nothing, not an error
    assert q.since is not None and q.until is not None and q.since > q.until
    for bad in ("on:2024-02-30", "on:2024-13", "on:0000-01-01", "before:24-1-1", "on:2024-1-"):
        assert parse(bad).since is None and parse(bad).until is None, bad


def test_suggestions_rebuild_the_query_as_typed() -> None:
    q = parse('deplyo -staging from:@bob "exact words" OR x')
    texts = [i.source for i in q.items]
    assert texts == ["deplyo", "-staging", "from:@bob", '"exact words"', "OR", "x"]
    assert without(q.items, (q.items[2],)) == 'deplyo -staging "exact words" OR x'
    assert respelled(q.items, {"deplyo": "deploy"}) == 'deploy -staging from:@bob "exact words" OR x'


def test_long_input_is_cut_not_refused() -> None:
    q = parse(" ".join(f"w{i}" for i in range(1000)))
    assert len(q.terms) == MAX_TERMS
    assert len(parse("x" * 10_000).terms[0].text) == 200


@settings(max_examples=300, deadline=None)
@given(st.text(), st.one_of(st.none(), st.text(max_size=30)))
def test_parse_never_raises(q: str, tz: str | None) -> None:
    parsed = parse(q, tz)
    assert len(parsed.terms) <= MAX_TERMS
    assert all(t.text for t in parsed.terms)


def test_snippets() -> None:
    assert snippet_of("short body", ((6, 4), (0, 5), (2, 2))) == ("short body", [[0, 5], [6, 4]])
    body = "a" * 500 + "NEEDLE" + "b" * 500
    text, hl = snippet_of(body, ((500, 6),))
    assert text.startswith("…") and text.endswith("…") and len(text) == SNIPPET_CHARS + 2
    assert [text[s: s + n] for s, n in hl] == ["NEEDLE"]
    text, hl = snippet_of(body, ((1000, 6),))  # near the end: the window ends with the body
    assert not text.endswith("…") and [text[s: s + n] for s, n in hl] == ["bbbbbb"]
    text, hl = snippet_of("x" * 300, ())
    assert text == "x" * SNIPPET_CHARS + "…" and hl == []
    assert snippet_of("abc", ((1, 50), (99, 1), (0, 0)))[1] == [[1, 2]], "clipped to the body"


def test_cursors_round_trip_and_refuse_what_they_are_not() -> None:
    c = Cursor(False, Position(snapshot=90210, ref_ms=1764067200000, phase=2, key=-5, id=88107))
    assert Cursor.decode(c.encode(), False) == c
    assert Cursor.decode(c.encode(), True) is None
    for bad in ("", "r", "r.1.2.3.4.5.6", "r.a.2.1.4.5", "r.1.2.3.4.5", "r.-1.2.1.4.5", f"r.1.2.1.4.{2**63}"):
        assert Cursor.decode(bad, False) is None, bad
