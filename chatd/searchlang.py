"""The search query language: what a user types in the search box → a ``Query``. Pure.

Any input parses, without error: an operator whose value makes no sense (``has:kittens``,
``before:someday``), an unknown operator (``foo:bar``, ``https://x``), a lone ``-`` or ``*``,
unbalanced quotes — each is plain text, or nothing. Text is turned into index lexemes by
PostgreSQL (``chatd_search_term`` in sql/0003_search.sql), the same code that indexed the
messages; this module only splits the input and reads the operators.

Grammar (docs/client.md has the user's version):

- ``word``: the word, a part of a token (``prod`` in ``deploy-1307.prod.internal``), or, with
  3+ characters, any word containing it; ``word*``: words starting with it;
- ``"exact phrase"``: those words in that order, nothing else in between;
- ``a OR b``: either (``OR`` in capitals, between two words or phrases);
- ``-word``, ``-"phrase"``, ``-from:…``, ``-in:…``, ``-dm:…``, ``-has:…``, ``-is:mention``: not that;
- ``from:@user`` (``from:me``), ``in:#channel`` (``in:"two words"``), ``dm:@user`` (my direct
  message conversations with them), ``has:link``, ``has:file``, ``has:image``, ``is:mention``
  (the message's structured mentions name me, or it mentions everyone: marker lexemes, never
  the text), ``before:``/``after:``/``on:`` an ISO date (``2025-03-14``; ``2025-03`` and
  ``2025`` mean the whole month or year) in the user's time zone.
  Several ``from:`` or several ``in:``/``dm:`` are alternatives; anything else must all hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: At most this many words and phrases count; the rest of a long query is ignored.
MAX_TERMS = 32
#: At most this many values of one operator (from:, in:) count.
MAX_VALUES = 16
#: Longest word or phrase used, in characters (a pasted blob is cut, not refused).
MAX_TERM_CHARS = 200
#: Tokens of the input looked at: a 60 KB paste costs a few milliseconds, not a scan of it all.
MAX_TOKENS = 512

# Modes of a term, as sql chatd_search_query reads them.
PREFIX, EXACT, EXCLUDED, MARKER = 1, 2, 4, 8

HAS_MARKERS = {"link": " has:link", "links": " has:link", "url": " has:link", "file": " has:file",
               "files": " has:file", "attachment": " has:file", "image": " has:image",
               "images": " has:image"}
_OPS = frozenset({"from", "in", "dm", "has", "before", "after", "on", "is"})
#: The marker lexemes of mentions (sql chatd_search_mentions): of me (the caller puts my id in
#: place of MENTION_ME), and of everyone.
MENTION_ME, MENTION_ALL = " @me", " @all"
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}
_TOKEN = re.compile(r'(-?)(?:([A-Za-z]+):)?(["“„«])|(\S+)')
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase (or a marker lexeme): ``mode`` bits as above; same ``group``: OR."""

    text: str
    mode: int
    group: int


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of the query as typed (for suggestions that drop or replace it).

    ``kind``: ``text``, ``or``, ``from``, ``in``, ``has``, ``is``, ``date``; ``source``: what the user
    typed for it; ``negated`` for a leading ``-``.
    """

    kind: str
    source: str
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query. ``terms`` go to the word index; the rest narrows by author, channel, time."""

    terms: tuple[Term, ...] = ()
    from_users: tuple[str, ...] = ()  # usernames as typed ("me" resolved by the caller)
    not_from: tuple[str, ...] = ()
    in_channels: tuple[str, ...] = ()  # channel names as typed, without "#"
    not_in: tuple[str, ...] = ()
    dm_users: tuple[str, ...] = ()  # usernames as typed: my conversations with them
    not_dm: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    items: tuple[Item, ...] = field(default=(), compare=False)

    @property
    def empty(self) -> bool:
        """True iff nothing searchable was recognised (only punctuation, say)."""
        return not any(i.kind != "or" for i in self.items)


def parse(q: str, tz: str | None = None) -> Query:
    """Parse what the user typed. Never raises; ``tz`` is an IANA zone (UTC when unknown)."""
    zone = _zone(tz)
    b = _Builder()
    pos = 0
    pending_or = False
    for _ in range(MAX_TOKENS):
        m = _TOKEN.search(q, pos)
        if m is None:
            break
        neg = m.group(1) == "-"
        if m.group(3):  # a quote opens (maybe after -, maybe after op:)
            close = _QUOTES[m.group(3)]
            end = q.find(close, m.end())
            inner = q[m.end(): end if end >= 0 else len(q)]
            pos = end + 1 if end >= 0 else len(q)
            source = q[m.start(): pos]
            op = (m.group(2) or "").lower()
            if op in ("from", "in", "dm") and inner.strip():
                b.operator(op, inner.strip(), neg, source)
            else:
                if m.group(2):  # an unknown op before a phrase: its text is a word
                    b.word(m.group(2), False, pending_or, source)
                    pending_or = False
                b.phrase(inner, neg, pending_or, source)
            pending_or = False
            continue
        word = m.group(4)
        pos = m.end()
        if word == "OR":  # between two words or phrases; anywhere else it means nothing
            pending_or = bool(b.items) and b.items[-1].kind == "text" and not b.items[-1].negated
            b.items.append(Item("or", word))
            continue
        neg = word.startswith("-") and len(word) > 1
        body = word[1:] if neg else word
        op, sep, value = body.partition(":")
        if sep and op.lower() in _OPS and value and b.operator_value(op.lower(), value, neg, word, zone):
            pending_or = False
            continue
        b.word(body, neg, pending_or, word)
        pending_or = False
    return b.build()


def _zone(tz: str | None) -> ZoneInfo | timezone:
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    return UTC


class _Builder:
    def __init__(self) -> None:
        self.terms: list[Term] = []
        self.items: list[Item] = []
        self.from_users: list[str] = []
        self.not_from: list[str] = []
        self.in_channels: list[str] = []
        self.not_in: list[str] = []
        self.dm_users: list[str] = []
        self.not_dm: list[str] = []
        self.since: datetime | None = None
        self.until: datetime | None = None
        self._group = 0

    def _term(self, text: str, mode: int, alternative: bool) -> None:
        if len(self.terms) >= MAX_TERMS:
            return
        if not (alternative and mode & EXCLUDED == 0):
            self._group += 1
        self.terms.append(Term(text[:MAX_TERM_CHARS], mode, self._group))

    def word(self, word: str, neg: bool, alternative: bool, source: str) -> None:
        mode = EXCLUDED if neg else 0
        if word.endswith("*"):
            word = word.rstrip("*")
            mode |= PREFIX
        if not word.strip("-*"):
            return
        self._term(word, mode, alternative)
        self.items.append(Item("text", source, neg))

    def phrase(self, text: str, neg: bool, alternative: bool, source: str) -> None:
        if not text.strip():
            return
        self._term(text, EXACT | (EXCLUDED if neg else 0), alternative)
        self.items.append(Item("text", source, neg))

    def operator(self, op: str, value: str, neg: bool, source: str) -> None:
        if op == "from":
            target = self.not_from if neg else self.from_users
            name = value.removeprefix("@")
        elif op == "dm":
            target = self.not_dm if neg else self.dm_users
            name = value.removeprefix("@")
        else:
            target = self.not_in if neg else self.in_channels
            name = value.removeprefix("#")
        if name and len(target) < MAX_VALUES:
            target.append(name)
            self.items.append(Item(op, source, neg))

    def operator_value(self, op: str, value: str, neg: bool, source: str, zone: ZoneInfo | timezone) -> bool:
        """Apply ``op:value``; False if it is not a valid operator (then it is plain text)."""
        if op in ("from", "in", "dm"):
            self.operator(op, value, neg, source)
            return True
        if op == "has" and value.lower() in HAS_MARKERS:
            self._term(HAS_MARKERS[value.lower()], MARKER | (EXCLUDED if neg else 0), False)
            self.items.append(Item("has", source, neg))
            return True
        if op == "is" and value.lower() in ("mention", "mentioned", "mentions"):
            excluded = EXCLUDED if neg else 0
            self._term(MENTION_ME, MARKER | excluded, False)  # the caller puts my id in
            self._term(MENTION_ALL, MARKER | excluded, True)  # …or everyone: one alternative
            self.items.append(Item("is", source, neg))
            return True
        if op in ("before", "after", "on") and not neg:
            span = _date_span(value, zone)
            if span is None:
                return False
            start, end = span
            if op in ("on", "after"):
                lower = start if op == "on" else end
                self.since = lower if self.since is None else max(self.since, lower)
            if op in ("on", "before"):
                upper = end if op == "on" else start
                self.until = upper if self.until is None else min(self.until, upper)
            self.items.append(Item("date", source))
            return True
        return False

    def build(self) -> Query:
        return Query(
            terms=tuple(self.terms), from_users=tuple(self.from_users), not_from=tuple(self.not_from),
            in_channels=tuple(self.in_channels), not_in=tuple(self.not_in), dm_users=tuple(self.dm_users),
            not_dm=tuple(self.not_dm), since=self.since,
            until=self.until, items=tuple(self.items),
        )


def _date_span(value: str, zone: ZoneInfo | timezone) -> tuple[datetime, datetime] | None:
    """[start, end) of the day, month or year ``value`` names, in ``zone``; None if not a date."""
    m = _DATE.match(value)
    if m is None:
        return None
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if day is not None:
            first = date(year, int(month or 1), int(day))
            after = first + timedelta(days=1)
        elif month is not None:
            first = date(year, int(month), 1)
            after = date(year + (first.month == 12), first.month % 12 + 1, 1)
        else:
            first, after = date(year, 1, 1), date(year + 1, 1, 1)
    except (ValueError, OverflowError):
        return None
    return datetime.combine(first, time(), zone), datetime.combine(after, time(), zone)


def with_mentions_of(query: Query, user_id: int) -> Query:
    """``is:mention`` means mentions of me: my id's marker lexeme (' @<id>')."""
    terms = tuple(replace(t, text=f" @{user_id}") if t.text == MENTION_ME and t.mode & MARKER else t
                  for t in query.terms)
    return replace(query, terms=terms)


def without(items: tuple[Item, ...], drop: tuple[Item, ...]) -> str:
    """The query as typed, without the items ``drop`` (what a "search without …" suggestion runs)."""
    return " ".join(i.source for i in items if not any(i is d for d in drop))


def respelled(items: tuple[Item, ...], words: dict[str, str]) -> str:
    """The query as typed, each word in ``words`` replaced by its correction."""
    return " ".join(words.get(i.source, i.source) for i in items)
