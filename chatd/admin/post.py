"""``chatd post``: post a message from the command line (announcements, scripts, cron jobs).

The message goes through the same one-statement insert as the hub's (dense seq, exactly once
per cid); its commit NOTIFYs every running chatd, which reads it back and broadcasts it live.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from chatd.admin.common import AddCommon, AdminError, SubParsers, leaf
from chatd.config import Config
from chatd.store import Conn, Database
from chatd.store import channels as channel_store
from chatd.store.messages import post_messages
from chatd.text import identity_key
from chatd.wire import WHITE_SPACE


class PostError(Exception):
    """The message cannot be posted (message says why)."""


@dataclass(frozen=True)
class PostResult:
    channel_id: int
    seq: int
    message_id: int


async def post_as(db: Conn, channel: str, username: str, text: str, max_body_bytes: int) -> PostResult:
    """Post ``text`` to the channel named ``channel`` (a leading ``#`` is ignored) as ``username``."""
    if not text.strip(WHITE_SPACE):  # the protocol's rule for send.body (PROTOCOL.md §5.9)
        raise PostError("the message is empty")
    if "\x00" in text:  # PostgreSQL cannot store it (§3.2)
        raise PostError("the message contains U+0000, which is not allowed in text")
    if len(text.encode()) > max_body_bytes:
        raise PostError(f"the message is over {max_body_bytes} bytes (max_body_bytes)")
    user = await channel_store.find_user_by_key(db, identity_key(username))
    if user is None:
        raise PostError(f"no active user named {username!r}")
    found = await channel_store.find_channel_by_key(db, identity_key(channel.removeprefix("#")))
    if found is None:
        raise PostError(f"no channel named {channel!r}")
    if not await channel_store.get_member(db, channel_id=found.id, user_id=user.id):
        raise PostError(f"{username} is not a member of {found.name!r}")
    [posted] = await post_messages(db, channel_id=found.id, users=[user.id], cids=[os.urandom(16)], bodies=[text])
    if posted.seq is None or posted.id is None:
        raise PostError(f"channel {channel!r} disappeared")
    return PostResult(found.id, posted.seq, posted.id)


async def cmd_post(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        result = await post_as(db, args.channel, args.as_user, text.rstrip("\n"), cfg.max_body_bytes)
    except PostError as exc:
        raise AdminError(str(exc)) from None
    print(f"posted to #{args.channel.removeprefix('#')} as seq {result.seq} (message id {result.message_id})")
    return 0


def add_commands(sub: SubParsers, common: AddCommon) -> None:
    """Register ``chatd post``."""
    p = leaf(sub, common, "post", "post a message to a channel (appears live)",
             "Post a message as a user; running chatd processes broadcast it at once (NOTIFY).",
             "  chatd post --channel general --as alice 'The server reboots at 22:00.'\n"
             "  echo 'backup done' | chatd post --channel ops --as backup-bot -\n", cmd_post)
    p.add_argument("--channel", required=True, help="channel name (a leading # is fine)")
    p.add_argument("--as", dest="as_user", required=True, metavar="USER", help="the author (a member of the channel)")
    p.add_argument("text", help="the message; '-' reads it from standard input")
