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
from chatd.store.stream import Event, VersionRow
from chatd.wire import (
    ChannelInfo,
    FileInfo,
    MemberInfo,
    Msg,
    MsgChanged,
    PublicChannelInfo,
    SearchHitInfo,
    UserInfo,
    VersionInfo,
)

_KINDS: dict[str, Literal["image", "video", "audio", "file"]] = {
    "image": "image", "video": "video", "audio": "audio", "file": "file",
}
#: A search result shows at most this many characters of its message, around the first match.
SNIPPET_CHARS = 240
#: …of which this many come before the first match, for context.
SNIPPET_LEAD_CHARS = 60


_NOTIFY: dict[str, Literal["all", "mentions", "nothing"]] = {"all": "all", "mentions": "mentions", "nothing": "nothing"}


def msg(row: MessageRow) -> Msg:
    """The ``msg`` push of a stored message as it is now (history pages carry ``msg(row).info()``):
    live pushes, resume replays, history, around and ``msg.changed`` all come through here, files
    included. A deleted message is a tombstone: nothing of its content, whatever the row holds."""
    if row.deleted:
        return Msg(row.channel_id, row.seq, row.id, row.ts_ms, row.user_id, row.username, row.display_name,
                   None, row.cid, v=row.version, edited=row.edited_ms, deleted=True)
    return Msg(
        row.channel_id, row.seq, row.id, row.ts_ms, row.user_id, row.username, row.display_name,
        row.body, row.cid, [file(f) for f in row.files] if row.files else None, row.version, row.edited_ms,
        None, list(row.mentions) if row.mentions else None, True if row.mention_all else None,
    )


def event(ev: Event) -> Msg | MsgChanged:
    """An event of the stream (a replay, a gap fill): ``msg`` at a message's own position, else
    ``msg.changed`` at the change's, each with the message as it is now."""
    if ev.changed:
        return MsgChanged(ev.message.channel_id, ev.pos, msg(ev.message).info())
    return msg(ev.message)


def version(row: VersionRow) -> VersionInfo:
    """A previous version of an edited message (``versions`` reply)."""
    info: VersionInfo = {"v": row.version, "body": row.body, "ts": row.ts_ms}
    if row.mentions:
        info["mentions"] = list(row.mentions)
    if row.mention_all:
        info["all"] = True
    return info


def file(row: FileRow) -> FileInfo:
    """A file a message carries (feature "files"); images with their displayed size."""
    info: FileInfo = {"id": row.key, "name": row.name, "size": row.size, "type": row.mime,
                      "kind": _KINDS.get(row.kind, "file")}
    if row.kind == "image" and row.width is not None and row.height is not None:
        info["w"], info["h"] = row.width, row.height
    return info


def channel(row: ChannelRow) -> ChannelInfo:
    """A channel as its member sees it (hello, channels, channel.added, channel.updated)."""
    role: Literal["owner", "member"] = "owner" if row.role == "owner" else "member"
    info: ChannelInfo = {
        "id": row.id, "name": row.name, "description": row.description, "private": row.private,
        "role": role, "last_seq": row.last_seq, "read_seq": row.read_seq, "unread": row.unread,
        "mentions": row.mentions, "notify": _NOTIFY.get(row.notify, "mentions"), "muted": row.muted,
    }
    if row.dm is not None:
        info["dm"] = [user(u.id, u.username, u.display_name) for u in row.dm]
    return info


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
