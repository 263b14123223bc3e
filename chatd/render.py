"""Stored rows → protocol shapes: the one place where each row type becomes what the wire carries.

Pure functions (no I/O). The hub (live ``msg`` pushes, gap fills), the resume replay and the
handlers (history, around, channel lists, members) all build their frames here, so a field added
to a message (attachments, edits, mentions) is added once.
"""

from __future__ import annotations

from typing import Literal

from chatd.presence import State as Presence
from chatd.store.channels import ChannelRow, MemberRow, PublicChannelRow
from chatd.store.files import FileRow
from chatd.store.messages import MessageRow
from chatd.store.search import Hit
from chatd.wire import (
    ChannelInfo,
    FileInfo,
    MemberInfo,
    Msg,
    PublicChannelInfo,
    SearchHitInfo,
    UserInfo,
)

_KINDS: dict[str, Literal["image", "video", "audio", "file"]] = {
    "image": "image", "video": "video", "audio": "audio", "file": "file",
}
#: A search result shows at most this many characters of its message, around the first match.
SNIPPET_CHARS = 240
#: …of which this many come before the first match, for context.
SNIPPET_LEAD_CHARS = 60


def msg(row: MessageRow) -> Msg:
    """The ``msg`` push of a stored message (history pages carry ``msg(row).info()``): live
    pushes, resume replays, history and around all come through here, files included."""
    return Msg(
        row.channel_id, row.seq, row.id, row.ts_ms, row.user_id, row.username, row.display_name,
        row.body, row.cid, [file(f) for f in row.files] if row.files else None,
    )


def file(row: FileRow) -> FileInfo:
    """A file a message carries (feature "files"); images with their displayed size."""
    info: FileInfo = {"id": row.key, "name": row.name, "size": row.size, "type": row.mime,
                      "kind": _KINDS.get(row.kind, "file")}
    if row.kind == "image" and row.width is not None and row.height is not None:
        info["w"], info["h"] = row.width, row.height
    return info


def channel(row: ChannelRow) -> ChannelInfo:
    """A channel as its member sees it (hello, channels, channel.added)."""
    role: Literal["owner", "member"] = "owner" if row.role == "owner" else "member"
    return {
        "id": row.id, "name": row.name, "description": row.description, "private": row.private,
        "role": role, "last_seq": row.last_seq, "read_seq": row.read_seq, "unread": row.unread,
    }


def public_channel(row: PublicChannelRow) -> PublicChannelInfo:
    """A public channel in a browse page."""
    return {"id": row.id, "name": row.name, "description": row.description, "members": row.members,
            "joined": row.joined}


def member(row: MemberRow, presence: Presence | None = None) -> MemberInfo:
    """A channel member; ``presence`` is included in ``members`` replies."""
    role: Literal["owner", "member"] = "owner" if row.role == "owner" else "member"
    info: MemberInfo = {"id": row.user_id, "name": row.username, "display": row.display_name, "role": role}
    if presence is not None:
        info["presence"] = presence
    return info


def user(user_id: int, username: str, display_name: str) -> UserInfo:
    """Who I am (hello)."""
    return {"id": user_id, "name": username, "display": display_name}


def search_hit(hit: Hit) -> SearchHitInfo:
    """A search result: the message's place and author, and a snippet with its highlights."""
    snippet, hl = snippet_of(hit.body, hit.highlights)
    return {"ch": hit.channel_id, "seq": hit.seq, "id": hit.id, "ts": hit.ts_ms, "user": hit.user_id,
            "name": hit.username, "display": hit.display_name, "snippet": snippet, "hl": hl}


def snippet_of(body: str, spans: tuple[tuple[int, int], ...]) -> tuple[str, list[list[int]]]:
    """At most SNIPPET_CHARS of ``body`` (plus "…" where cut) around its first highlight, and
    the highlights inside it — merged, sorted, as [start, length] in code points of the snippet."""
    merged: list[list[int]] = []
    for start, length in sorted(s for s in spans if s[1] > 0 and 0 <= s[0] < len(body)):
        end = min(start + length, len(body))
        if merged and start <= merged[-1][0] + merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end - merged[-1][0])
        else:
            merged.append([start, end - start])
    if len(body) <= SNIPPET_CHARS:
        return body, merged
    first = merged[0][0] if merged else 0
    lo = max(0, first - SNIPPET_LEAD_CHARS)
    hi = min(len(body), lo + SNIPPET_CHARS)
    lo = max(0, hi - SNIPPET_CHARS)
    lead = "…" if lo > 0 else ""
    text = lead + body[lo:hi] + ("…" if hi < len(body) else "")
    shift = len(lead) - lo
    inside = [[max(s, lo) + shift, min(s + n, hi) - max(s, lo)] for s, n in merged if s < hi and s + n > lo]
    return text, inside
