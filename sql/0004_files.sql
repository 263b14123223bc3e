-- Files (issue 12): uploads, their content on disk, and the messages that carry them.
--
-- The bytes live under DATA_DIR/files/blobs/, one file per distinct content, named by its
-- SHA-256 (chatd/files/blobstore.py). The database decides who may read them: a file is an
-- *attachment* (one upload by one user, under the name it was uploaded with), readable by the
-- current members of the channel of the message it is attached to (and by its uploader until
-- then). Two uploads of the same bytes share one blob.

-- One row per distinct content in files/blobs/.
CREATE TABLE file_blobs (
    sha256     bytea PRIMARY KEY CHECK (octet_length(sha256) = 32),
    size       bigint NOT NULL CHECK (size >= 0),
    mime       text NOT NULL,       -- sniffed from the bytes, never the uploader's word
    kind       text NOT NULL CHECK (kind IN ('image', 'video', 'audio', 'file')),
    -- Images that decoded and have a thumbnail: their size as displayed (EXIF orientation
    -- applied), so a client reserves the space before the thumbnail arrives.
    width      integer CHECK (width > 0),
    height     integer CHECK (height > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'image') = (width IS NOT NULL AND height IS NOT NULL))
);

-- One row per upload. `sha256` is NULL while the upload is unfinished (a resumable upload
-- whose bytes are in files/partial/<key>); `message_id` is set when a message carries it.
CREATE TABLE attachments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key        text NOT NULL,       -- the public id: random, in URLs and frames
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    name       text NOT NULL,       -- as uploaded, made safe (chatd/files/names.py)
    size       bigint NOT NULL CHECK (size >= 0),  -- declared while unfinished, then actual
    sha256     bytea REFERENCES file_blobs,
    message_id bigint REFERENCES messages (id) ON DELETE CASCADE,
    position   smallint NOT NULL DEFAULT 0,  -- order within its message
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (message_id IS NULL OR sha256 IS NOT NULL)
);
CREATE UNIQUE INDEX attachments_key_uq ON attachments (key);
-- Messages are read with their files. Looking them up for every message of a history page cost
-- ~0.15 ms per page of 50 (measured with 5,000 attachments), a third of the page's query: the
-- flag lets a read skip messages without files, and search answer `has:file` without a join.
-- Adding a column with a constant default rewrites nothing (PostgreSQL 11+).
ALTER TABLE messages ADD COLUMN has_files boolean NOT NULL DEFAULT false;
CREATE INDEX attachments_message_idx ON attachments (message_id, position) WHERE message_id IS NOT NULL;
CREATE INDEX attachments_user_idx ON attachments (user_id);
CREATE INDEX attachments_sha256_idx ON attachments (sha256);
-- Housekeeping deletes uploads never attached after files_unattached_secs.
CREATE INDEX attachments_unattached_idx ON attachments (created_at) WHERE message_id IS NULL;

-- The files of messages, for search (`has:file`, `has:image`, file names) and reports: one
-- row per attached file. chatd/store/files.py names this view too (MESSAGE_FILES_VIEW).
CREATE VIEW message_files AS
SELECT a.message_id, m.channel_id, m.seq, a.position, a.key, a.name, a.size, b.mime, b.kind, a.user_id
FROM attachments a
JOIN file_blobs b ON b.sha256 = a.sha256
JOIN messages m ON m.id = a.message_id;
