"""Files: uploads (``attachments``), their content (``file_blobs``), and who may read them.

The bytes are on disk (``chatd.files.blobstore``); these are the rows that say what they are,
whose they are and which message carries them. Every function is one named query (or one
transaction of a few).

For other capabilities:

- **search** (``has:file``, ``has:image``, file names): ``messages.has_files`` says whether a
  message carries files (no join needed for ``has:file``); the view ``message_files``
  (``MESSAGE_FILES_VIEW``: message_id, channel_id, seq, position, key, name, size, mime, kind,
  user_id; one row per attached file) has their names and kinds, to join to the messages a
  search may read.
- **edits/deletes**: ``release_message_files(db, message_id=…)`` in the transaction that deletes
  (or strips) the message; blobs no other upload shares lose their row and leave the disk at the
  next sweep (or at once with ``Files.discard_blobs``). It clears the message's ``has_files``.
- **backup**: ``file_blobs`` lists every file of ``DATA_DIR/files/blobs/`` with its SHA-256.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from chatd.store.db import Conn, Database, Record

MESSAGE_FILES_VIEW = "message_files"


@dataclass(frozen=True, slots=True)
class FileRow:
    """A finished upload as a message carries it (``chatd.render.file``)."""

    key: str
    name: str
    size: int
    mime: str
    kind: str  # "image" (decoded, has a thumbnail) | "video" | "audio" | "file"
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Blob:
    """What a stored content is (sniffed and measured once, when it first arrives)."""

    sha256: bytes
    size: int
    mime: str
    kind: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class UploadRow:
    """An upload as its uploader sees it; ``sha256`` is None while unfinished."""

    key: str
    user_id: int
    name: str
    size: int
    sha256: bytes | None
    message_id: int | None
    created_ms: int


@dataclass(frozen=True, slots=True)
class Usage:
    """One user's uploads: bytes (declared sizes for unfinished ones) and unfinished count."""

    bytes: int
    unfinished: int


def files_from_json(value: str | None) -> tuple[FileRow, ...]:
    """The ``files`` column of message reads (a JSON array of arrays) as rows."""
    if not value:
        return ()
    return tuple(FileRow(*item) for item in json.loads(value))


#: The ``files`` column of a message read (``m`` is the messages row), for chatd.store.messages;
#: looked up only for messages flagged ``has_files`` (most have none).
FILES_OF_MESSAGE_SQL = """CASE WHEN m.has_files THEN (
    SELECT json_agg(json_build_array(a.key, a.name, a.size, b.mime, b.kind, b.width, b.height)
                    ORDER BY a.position)
    FROM attachments a JOIN file_blobs b ON b.sha256 = a.sha256
    WHERE a.message_id = m.id
) END AS files"""


def _upload(r: Record) -> UploadRow:
    sha = r["sha256"]
    return UploadRow(
        r["key"], r["user_id"], r["name"], r["size"], bytes(sha) if sha is not None else None, r["message_id"],
        int(r["created_at"].timestamp() * 1000),
    )


_UPLOAD_COLUMNS = "key, user_id, name, size, sha256, message_id, created_at"


async def create_upload(db: Conn, *, key: str, user_id: int, name: str, size: int) -> None:
    """Record an unfinished upload of ``size`` bytes (its bytes are still to come)."""
    await db.execute(
        "files.create_upload",
        "INSERT INTO attachments (key, user_id, name, size) VALUES ($1, $2, $3, $4)",
        key, user_id, name, size,
    )


async def get_upload(db: Conn, *, key: str, user_id: int) -> UploadRow | None:
    """The upload ``key`` if ``user_id`` made it (anyone else's is None, like a missing one)."""
    r = await db.fetchrow(
        "files.get_upload",
        f"SELECT {_UPLOAD_COLUMNS} FROM attachments WHERE key = $1 AND user_id = $2",
        key, user_id,
    )
    return _upload(r) if r is not None else None


async def delete_upload(db: Conn, *, key: str, user_id: int) -> UploadRow | None:
    """Delete ``user_id``'s upload ``key`` if no message carries it; the deleted row, or None."""
    r = await db.fetchrow(
        "files.delete_upload",
        f"DELETE FROM attachments WHERE key = $1 AND user_id = $2 AND message_id IS NULL RETURNING {_UPLOAD_COLUMNS}",
        key, user_id,
    )
    return _upload(r) if r is not None else None


async def delete_unfinished_upload(db: Conn, *, key: str) -> None:
    """Delete upload ``key`` if it is unfinished (its partial file is the caller's to remove)."""
    await db.execute("files.delete_unfinished", "DELETE FROM attachments WHERE key = $1 AND sha256 IS NULL", key)


async def get_blob(db: Conn, sha256: bytes) -> Blob | None:
    """What is known of a content already stored, or None."""
    r = await db.fetchrow(
        "files.get_blob", "SELECT sha256, size, mime, kind, width, height FROM file_blobs WHERE sha256 = $1", sha256
    )
    if r is None:
        return None
    return Blob(bytes(r["sha256"]), r["size"], r["mime"], r["kind"], r["width"], r["height"])


async def finish_upload(db: Database, *, key: str, blob: Blob) -> FileRow | None:
    """Record that upload ``key`` is complete with content ``blob`` (stored on disk already).

    One transaction: the blob's row (kept if the content was known) and the upload's hash and
    size. Returns the finished file, or None if the upload was deleted meanwhile.
    """
    async with db.transaction("files.finish_upload") as tx:
        await _insert_blob(tx, blob)
        r = await tx.fetchrow(
            "files.finish_upload",
            """UPDATE attachments SET sha256 = $2, size = $3 WHERE key = $1 AND sha256 IS NULL
               RETURNING key, name, size""",
            key, blob.sha256, blob.size,
        )
    if r is None:
        return None
    return FileRow(r["key"], r["name"], r["size"], blob.mime, blob.kind, blob.width, blob.height)


async def record_upload(db: Database, *, key: str, user_id: int, name: str, blob: Blob) -> FileRow:
    """Record a complete one-request upload: its blob (kept if known) and its row, at once."""
    async with db.transaction("files.record_upload") as tx:
        await _insert_blob(tx, blob)
        await tx.execute(
            "files.record_upload",
            "INSERT INTO attachments (key, user_id, name, size, sha256) VALUES ($1, $2, $3, $4, $5)",
            key, user_id, name, blob.size, blob.sha256,
        )
    return FileRow(key, name, blob.size, blob.mime, blob.kind, blob.width, blob.height)


async def _insert_blob(tx: Conn, blob: Blob) -> None:
    await tx.execute(
        "files.insert_blob",
        """INSERT INTO file_blobs (sha256, size, mime, kind, width, height) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (sha256) DO NOTHING""",
        blob.sha256, blob.size, blob.mime, blob.kind, blob.width, blob.height,
    )


async def usage_of_user(db: Conn, *, user_id: int) -> Usage:
    """``user_id``'s stored bytes (unfinished uploads at their declared size) and unfinished count."""
    r = await db.fetchrow(
        "files.usage_of_user",
        """SELECT coalesce(sum(size), 0)::bigint AS bytes, count(*) FILTER (WHERE sha256 IS NULL) AS unfinished
           FROM attachments WHERE user_id = $1""",
        user_id,
    )
    assert r is not None
    return Usage(r["bytes"], r["unfinished"])


async def files_for_send(db: Conn, *, user_id: int, cid: bytes, keys: Sequence[str]) -> list[FileRow]:
    """The finished uploads ``keys`` of ``user_id`` that a message with ``cid`` may carry: not
    attached yet, or attached to that very message (a retried send). In the order of ``keys``;
    a key that does not qualify is missing from the result."""
    rows = await db.fetch(
        "files.for_send",
        """SELECT a.key, a.name, a.size, b.mime, b.kind, b.width, b.height
           FROM unnest($3::text[]) WITH ORDINALITY AS k(key, ord)
           JOIN attachments a ON a.key = k.key AND a.user_id = $1
           JOIN file_blobs b ON b.sha256 = a.sha256
           LEFT JOIN messages m ON m.id = a.message_id
           WHERE a.message_id IS NULL OR (m.user_id = $1 AND m.cid = $2)
           ORDER BY k.ord""",
        user_id, cid, list(keys),
    )
    return [FileRow(r["key"], r["name"], r["size"], r["mime"], r["kind"], r["width"], r["height"]) for r in rows]


async def attach_files(
    db: Conn, *, message_ids: Sequence[int], user_ids: Sequence[int], keys: Sequence[str], positions: Sequence[int]
) -> set[str]:
    """Attach each upload ``keys[i]`` of ``user_ids[i]`` to ``message_ids[i]`` (unless another
    message took it meanwhile) and flag those messages ``has_files``; returns the keys attached
    now. Part of the send's transaction."""
    rows = await db.fetch(
        "files.attach",
        """WITH attached AS (
               UPDATE attachments a SET message_id = x.message_id, position = x.position
               FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::smallint[])
                    AS x(message_id, user_id, key, position)
               WHERE a.key = x.key AND a.user_id = x.user_id AND a.sha256 IS NOT NULL AND a.message_id IS NULL
               RETURNING a.key, a.message_id
           ), flagged AS (
               UPDATE messages SET has_files = true WHERE id IN (SELECT message_id FROM attached)
           )
           SELECT key FROM attached""",
        list(message_ids), list(user_ids), list(keys), list(positions),
    )
    return {r["key"] for r in rows}


async def readable_file(db: Conn, *, key: str, user_id: int) -> tuple[FileRow, bytes] | None:
    """File ``key`` and its content hash if ``user_id`` may read it: a current member of the
    channel of the message that carries it, or its uploader while no message does. Anyone
    else gets None, exactly as for a key that does not exist."""
    r = await db.fetchrow(
        "files.readable",
        """SELECT a.key, a.name, a.size, a.sha256, b.mime, b.kind, b.width, b.height
           FROM attachments a JOIN file_blobs b ON b.sha256 = a.sha256
           WHERE a.key = $1 AND (
               (a.message_id IS NULL AND a.user_id = $2)
               OR EXISTS (SELECT 1 FROM messages m
                          JOIN channel_members cm ON cm.channel_id = m.channel_id AND cm.user_id = $2
                          WHERE m.id = a.message_id))""",
        key, user_id,
    )
    if r is None:
        return None
    row = FileRow(r["key"], r["name"], r["size"], r["mime"], r["kind"], r["width"], r["height"])
    return row, bytes(r["sha256"])


async def release_message_files(db: Conn, *, message_id: int) -> list[bytes]:
    """Detach and delete the uploads of message ``message_id`` (for deleting a message, in its
    transaction) and the blob rows no other upload shares; returns those blobs' hashes.

    Their files leave ``files/blobs/`` at the next housekeeping sweep (a blob without a row),
    or at once with ``FileStore.discard_blobs``.
    """
    rows = await db.fetch(
        "files.release_message_files",
        """WITH gone AS (DELETE FROM attachments WHERE message_id = $1 RETURNING sha256),
                unflagged AS (UPDATE messages SET has_files = false WHERE id = $1 AND has_files)
           DELETE FROM file_blobs b USING (SELECT DISTINCT sha256 FROM gone) g
           WHERE b.sha256 = g.sha256
             AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = g.sha256 AND a.message_id IS DISTINCT FROM $1)
           RETURNING b.sha256""",
        message_id,
    )
    return [bytes(r["sha256"]) for r in rows]


# --- housekeeping ------------------------------------------------------------------------------


async def delete_unattached_uploads(db: Conn, *, older_than_epoch: float) -> list[UploadRow]:
    """Delete uploads (finished or not) that no message carries, made before the given time."""
    rows = await db.fetch(
        "files.delete_unattached",
        f"""DELETE FROM attachments WHERE message_id IS NULL AND created_at < to_timestamp($1)
            RETURNING {_UPLOAD_COLUMNS}""",
        older_than_epoch,
    )
    return [_upload(r) for r in rows]


async def count_unattached_uploads(db: Conn, *, older_than_epoch: float) -> int:
    """How many uploads ``delete_unattached_uploads`` would delete now."""
    n: int = await db.fetchval(
        "files.count_unattached",
        "SELECT count(*) FROM attachments WHERE message_id IS NULL AND created_at < to_timestamp($1)",
        older_than_epoch,
    )
    return n


async def delete_unreferenced_blobs(db: Conn) -> list[bytes]:
    """Delete the blob rows no upload refers to; returns their hashes (their files can go)."""
    rows = await db.fetch(
        "files.delete_unreferenced_blobs",
        """DELETE FROM file_blobs b WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = b.sha256)
           RETURNING b.sha256""",
    )
    return [bytes(r["sha256"]) for r in rows]


async def known_blobs(db: Conn, shas: Sequence[bytes]) -> set[bytes]:
    """The hashes among ``shas`` that have a blob row."""
    rows = await db.fetch(
        "files.known_blobs", "SELECT sha256 FROM file_blobs WHERE sha256 = ANY($1::bytea[])", list(shas)
    )
    return {bytes(r["sha256"]) for r in rows}


async def unfinished_keys(db: Conn, keys: Sequence[str]) -> set[str]:
    """The keys among ``keys`` of uploads still unfinished (their partial file is in use)."""
    rows = await db.fetch(
        "files.unfinished_keys",
        "SELECT key FROM attachments WHERE key = ANY($1::text[]) AND sha256 IS NULL",
        list(keys),
    )
    return {r["key"] for r in rows}


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One line of ``chatd files report``: a channel's or a user's files."""

    name: str
    files: int
    bytes: int


async def usage_by_channel(db: Conn) -> list[UsageLine]:
    """Attached files per channel (bytes counted per upload, shared content included)."""
    rows = await db.fetch(
        "files.usage_by_channel",
        f"""SELECT c.name, count(*) AS files, coalesce(sum(f.size), 0)::bigint AS bytes
            FROM {MESSAGE_FILES_VIEW} f JOIN channels c ON c.id = f.channel_id
            GROUP BY c.name ORDER BY bytes DESC, c.name""",
    )
    return [UsageLine(r["name"], r["files"], r["bytes"]) for r in rows]


async def usage_by_user(db: Conn) -> list[UsageLine]:
    """Uploads per user, attached or not (what the quota counts)."""
    rows = await db.fetch(
        "files.usage_by_user",
        """SELECT u.username AS name, count(*) AS files, coalesce(sum(a.size), 0)::bigint AS bytes
           FROM attachments a JOIN users u ON u.id = a.user_id
           GROUP BY u.username ORDER BY bytes DESC, u.username""",
    )
    return [UsageLine(r["name"], r["files"], r["bytes"]) for r in rows]


async def blob_totals(db: Conn) -> tuple[int, int]:
    """(count, bytes) of the distinct contents stored."""
    r = await db.fetchrow("files.blob_totals", "SELECT count(*) AS n, coalesce(sum(size), 0)::bigint AS b FROM file_blobs")
    assert r is not None
    return r["n"], r["b"]
