"""Stored rows → protocol shapes: the one place where each row type becomes what the wire carries.

Pure functions (no I/O). The hub (live ``msg`` pushes, gap fills), the resume replay and the
handlers (history, around, channel lists, members) all build their frames here, so a field added
to a message (attachments, edits, mentions) is added once.
"""

from __future__ import annotations

from typing import Literal

from chatd.presence import State as Presence
from chatd.store.channels import ChannelRow, MemberRow, PublicChannelRow
from chatd.store.messages import MessageRow
from chatd.wire import ChannelInfo, MemberInfo, Msg, PublicChannelInfo, UserInfo


def msg(row: MessageRow) -> Msg:
    """The ``msg`` push of a stored message (history pages carry ``msg(row).info()``)."""
    return Msg(
        row.channel_id, row.seq, row.id, row.ts_ms, row.user_id, row.username, row.display_name,
        row.body, row.cid,
    )


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
