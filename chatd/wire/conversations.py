"""Parsers of the client frames of the conversation features (PROTOCOL.md §5.17–5.22): ``edit``,
``delete``, ``versions`` ("edits"), ``dm.open``, ``users`` ("dms"), ``channel.notify``
("notify"), and the mention fields that ``send`` and ``edit`` share ("mentions"). Pure, like
the rest of the codec (``chatd.wire.codec`` puts these in its table)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Literal

from chatd.wire.cbor import CBORValue
from chatd.wire.client_frames import (
    ChannelNotify,
    ClientFrame,
    Delete,
    DmOpen,
    Edit,
    Users,
    Versions,
)
from chatd.wire.fields import (
    allowed_keys,
    bad,
    check_keys,
    describe,
    field_body,
    field_bool,
    field_ids,
    field_limit,
    field_text,
    field_uint,
)

#: Most people one message may mention by id (``@channel`` mentions everyone without a list).
MAX_MENTIONS: Final = 50
#: Most other people a direct message conversation has (8 with me).
MAX_DM_OTHERS: Final = 7
NOTIFY_LEVELS: Final[tuple[Literal["all", "mentions", "nothing"], ...]] = ("all", "mentions", "nothing")


def mention_fields(m: dict[str, CBORValue], op: str, rid: int) -> tuple[tuple[int, ...], bool]:
    """``mentions`` (1 to MAX_MENTIONS distinct user ids) and ``all``, each optional."""
    mentions = field_ids(m, "mentions", op, rid, MAX_MENTIONS) if "mentions" in m else ()
    everyone = field_bool(m, "all", op, rid) if "all" in m else False
    return mentions, everyone


_EDIT_KEYS = allowed_keys("ch", "seq", "body", "mentions", "all")


def _parse_edit(m: dict[str, CBORValue], rid: int, max_body: int) -> Edit:
    check_keys(m, "edit", rid, ("ch", "seq", "body"), _EDIT_KEYS)
    ch = field_uint(m, "ch", "edit", rid)
    seq = field_uint(m, "seq", "edit", rid)
    body = field_body(m, "edit", rid, max_body, may_be_blank=False)
    mentions, everyone = mention_fields(m, "edit", rid)
    return Edit(rid=rid, ch=ch, seq=seq, body=body, mentions=mentions, all=everyone)


def _ch_seq(op: str, cls: type[Delete | Versions]) -> Callable[[dict[str, CBORValue], int, int], ClientFrame]:
    keys = allowed_keys("ch", "seq")

    def parse(m: dict[str, CBORValue], rid: int, _max_body: int) -> ClientFrame:
        check_keys(m, op, rid, ("ch", "seq"), keys)
        return cls(rid=rid, ch=field_uint(m, "ch", op, rid), seq=field_uint(m, "seq", op, rid))

    return parse


_DM_KEYS = allowed_keys("users")


def _parse_dm_open(m: dict[str, CBORValue], rid: int, _max_body: int) -> DmOpen:
    check_keys(m, "dm.open", rid, ("users",), _DM_KEYS)
    value = m["users"]
    if type(value) is not list or not 1 <= len(value) <= MAX_DM_OTHERS:
        got = f"{len(value)} items" if type(value) is list else describe(value)
        raise bad(f"dm.open.users must be an array of 1 to {MAX_DM_OTHERS} usernames, not {got}", rid)
    names = tuple(field_text({"users": v}, "users", "dm.open", rid) for v in value)
    return DmOpen(rid=rid, users=names)


_USERS_KEYS = allowed_keys("q", "limit")


def _parse_users(m: dict[str, CBORValue], rid: int, _max_body: int) -> Users:
    check_keys(m, "users", rid, (), _USERS_KEYS)
    q = field_text(m, "q", "users", rid) if "q" in m else None
    if "limit" in m:
        return Users(rid=rid, q=q, limit=field_limit(m, "users", rid))
    return Users(rid=rid, q=q)


_NOTIFY_KEYS = allowed_keys("ch", "notify", "muted")


def _parse_channel_notify(m: dict[str, CBORValue], rid: int, _max_body: int) -> ChannelNotify:
    op = "channel.notify"
    check_keys(m, op, rid, ("ch",), _NOTIFY_KEYS)
    ch = field_uint(m, "ch", op, rid)
    if "notify" not in m and "muted" not in m:
        raise bad(f"{op}: give notify, muted or both", rid)
    muted = field_bool(m, "muted", op, rid) if "muted" in m else None
    if "notify" not in m:
        return ChannelNotify(rid=rid, ch=ch, muted=muted)
    level = m["notify"]
    for known in NOTIFY_LEVELS:
        if level == known and type(level) is str:
            return ChannelNotify(rid=rid, ch=ch, notify=known, muted=muted)
    raise bad(f'{op}.notify must be "all", "mentions" or "nothing"', rid)


#: op → parser, merged into chatd.wire.codec's table.
CONVERSATION_PARSERS: Final[Mapping[str, Callable[[dict[str, CBORValue], int, int], ClientFrame]]] = {
    "edit": _parse_edit,
    "delete": _ch_seq("delete", Delete),
    "versions": _ch_seq("versions", Versions),
    "dm.open": _parse_dm_open,
    "users": _parse_users,
    "channel.notify": _parse_channel_notify,
}
