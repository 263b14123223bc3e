"""Search (feature "search", PROTOCOL.md §5.16): the messages of my channels that match a query,
a page at a time, and — when nothing matches — other queries that would find something.

Access rule NONE: no channel is named by the frame. What the user may read is decided inside
the SQL of every query (``chatd_search_page`` reads only channels the user is a member of), so
``in:`` a channel the user cannot see finds nothing, exactly like ``in:`` a channel that does
not exist, and the answer has the same shape either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chatd import render, searchlang
from chatd.auth.names import username_key
from chatd.handlers.base import Grant, Peer, Refuse
from chatd.searchlang import Item, Query
from chatd.store import QueryTimeout
from chatd.store import search as search_store
from chatd.store.dms import DM_KEY_PREFIX, dm_name_keys
from chatd.text import identity_key
from chatd.wire import Ok, Search, SuggestionInfo
from chatd.wire.errors import BAD_FRAME, UNAVAILABLE

log = logging.getLogger("chatd.search")

#: At most this many alternative queries are tried for the suggestions of an empty result.
MAX_SUGGESTION_PROBES = 6
#: Words of a query checked for a better spelling.
MAX_RESPELLED_WORDS = 3
#: A conversation key no conversation has: ``dm:`` someone I never wrote to finds nothing.
NO_CONVERSATION = DM_KEY_PREFIX + "none"


@dataclass(frozen=True, slots=True)
class Cursor:
    """The ``next`` of a page: the order, the snapshot and the last hit's keyset. On the wire it
    is opaque text: ``<r|n>.<snapshot>.<ref ms>.<phase>.<key>.<id>``."""

    newest: bool
    position: search_store.Position

    def encode(self) -> str:
        p = self.position
        return f"{'n' if self.newest else 'r'}.{p.snapshot}.{p.ref_ms}.{p.phase}.{p.key}.{p.id}"

    @staticmethod
    def decode(text: str, newest: bool) -> Cursor | None:
        """The cursor ``text`` for a search in this order, or None if it is not one."""
        parts = text.split(".")
        if len(parts) != 6 or parts[0] != ("n" if newest else "r"):
            return None
        try:
            snapshot, ref_ms, phase, key, id_ = (int(x) for x in parts[1:])
        except ValueError:
            return None
        if phase not in (1, 2) or min(snapshot, ref_ms, id_) < 0 or max(abs(key), snapshot, ref_ms, id_) >= 2**63:
            return None
        return Cursor(newest, search_store.Position(snapshot, ref_ms, phase, key, id_))


async def search(peer: Peer, frame: Search, _: Grant | None) -> None:
    newest = frame.order == "newest"
    position = None
    if frame.after is not None:
        cursor = Cursor.decode(frame.after, newest)
        if cursor is None:
            raise Refuse(BAD_FRAME, "search.after is not a cursor of this server for this order")
        position = cursor.position
    query = searchlang.parse(frame.q, frame.tz)
    try:
        page = await _page(peer, query, newest, position, frame.limit)
        suggestions = await _suggest(peer, query, frame.tz) if position is None and not page.count else []
    except QueryTimeout:
        log.warning("event=search.timeout user=%d q_chars=%d", peer.user_id, len(frame.q))
        raise Refuse(UNAVAILABLE, "the search took too long; try again, or narrow it", retry=True) from None
    fields: dict[str, Any] = {
        "count": page.count, "capped": page.capped, "results": [render.search_hit(h) for h in page.hits],
    }
    if page.more and page.hits:
        last = page.hits[-1]
        key = last.key if last.phase == 1 or page.min_candidate is None else page.min_candidate
        fields["next"] = Cursor(newest, search_store.Position(page.snapshot, page.ref_ms, last.phase, key, last.id)).encode()
    fields["suggestions"] = suggestions
    peer.push(Ok(frame.rid, fields))


async def _page(peer: Peer, query: Query, newest: bool, position: search_store.Position | None,
                limit: int) -> search_store.Page:
    if query.empty:
        return search_store.Page(0, False, (), False, 0, 0, None)
    me = peer.principal.username
    q = searchlang.with_mentions_of(query, peer.user_id)
    terms = search_store.Terms([t.text for t in q.terms], [t.mode for t in q.terms], [t.group for t in q.terms])
    scope = search_store.Scope(
        from_keys=_keys([me if u.lower() == "me" else u for u in q.from_users], username_key),
        not_from_keys=_keys([me if u.lower() == "me" else u for u in q.not_from], username_key),
        in_keys=await _channel_keys(peer, q.in_channels, q.dm_users),
        not_in_keys=await _channel_keys(peer, q.not_in, q.not_dm),
        since=q.since, until=q.until,
    )
    return await search_store.search_page(
        peer.state.db, user_id=peer.user_id, terms=terms, scope=scope, newest=newest, position=position, limit=limit,
    )


def _keys(values: list[str], key: Any) -> list[str] | None:
    return [key(v) for v in values] if values else None


async def _channel_keys(peer: Peer, channels: tuple[str, ...], dm_users: tuple[str, ...]) -> list[str] | None:
    """The name keys ``in:`` (channels) and ``dm:`` (my conversations with those people) name;
    ``dm:`` someone I have no conversation with names none (so it finds nothing)."""
    keys = [identity_key(c) for c in channels]
    if dm_users:
        found = await dm_name_keys(peer.state.db, user_id=peer.user_id, username_keys=[username_key(u) for u in dm_users])
        keys += found or [NO_CONVERSATION]
    return keys or None


async def _suggest(peer: Peer, query: Query, tz: str | None) -> list[SuggestionInfo]:
    """Queries that find something where ``query`` found nothing, each checked, best first:
    a respelling from words in the user's channels; all channels instead of ``in:``; any date;
    without the part whose removal finds the most."""
    out: list[SuggestionInfo] = []
    probes = 0

    async def found(text: str) -> search_store.Page | None:
        nonlocal probes
        if probes >= MAX_SUGGESTION_PROBES:
            return None
        probes += 1
        # newest first: the count and one hit, without ranking candidates (cheaper)
        page = await _page(peer, searchlang.parse(text, tz), True, None, 1)
        return page if page.count else None

    items = query.items
    words = [i for i in items if i.kind == "text" and not i.negated and not i.source.startswith(('"', "“", "„", "«"))]
    fixes: dict[str, str] = {}
    for item in words[:MAX_RESPELLED_WORDS]:
        similar = await search_store.similar_words(peer.state.db, user_id=peer.user_id, word=item.source, limit=1)
        if similar:
            fixes[item.source] = similar[0]
    if fixes:
        text = searchlang.respelled(items, fixes)
        if page := await found(text):
            out.append(_suggestion("spelling", text, page))
    for kinds, label in ((("in", "dm"), "all_channels"), (("date",), "any_date")):
        dropped = tuple(i for i in items if i.kind in kinds)
        if dropped:
            text = searchlang.without(items, dropped)
            if page := await found(text):
                out.append(_suggestion(label, text, page))
    best: tuple[SuggestionInfo, int] | None = None
    positive_words = [i for i in items if i.kind == "text" and not i.negated]
    for item in items:
        if item.kind in ("or", "in", "dm", "date") or (item.kind == "text" and not item.negated and len(positive_words) < 2):
            continue
        text = searchlang.without(items, (item,))
        page = await found(text)
        if page and (best is None or page.count > best[1]):
            best = (_suggestion("without", text, page, removed=item), page.count)
    if best is not None:
        out.append(best[0])
    return out


def _suggestion(kind: Any, text: str, page: search_store.Page, removed: Item | None = None) -> SuggestionInfo:
    s: SuggestionInfo = {"kind": kind, "q": text, "count": page.count, "capped": page.capped}
    if removed is not None:
        s["removed"] = removed.source
    return s
