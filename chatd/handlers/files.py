"""Files in the WebSocket protocol (feature "files", PROTOCOL.md §5.9 and §16): which uploads a
``send`` may carry. Uploading and downloading are HTTP (``chatd.web.uploads``,
``chatd.web.downloads``); messages carry their files through ``chatd.render.msg``.
"""

from __future__ import annotations

from chatd.handlers.base import Peer, Refuse
from chatd.store import files as file_store
from chatd.store.files import FileRow
from chatd.wire import Send
from chatd.wire.errors import FILE_NOT_FOUND, clip


async def files_of_send(peer: Peer, frame: Send) -> tuple[FileRow, ...]:
    """The files ``frame`` asks its message to carry, in its order; ``Refuse``
    (``file_not_found``) if one is not a finished upload of this user that no other message
    carries (a retried send may name the files its first attempt attached)."""
    if not frame.files:
        return ()
    rows = await file_store.files_for_send(peer.state.db, user_id=peer.user_id, cid=frame.cid, keys=frame.files)
    if len(rows) != len(frame.files):
        found = {r.key for r in rows}
        missing = next(k for k in frame.files if k not in found)
        raise Refuse(
            FILE_NOT_FOUND,
            f"file {clip(missing)!r} is not a finished upload of yours that a message may carry "
            "(unknown, unfinished, expired, or attached to another message)",
        )
    return tuple(rows)
