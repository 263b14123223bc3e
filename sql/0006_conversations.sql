-- Conversations (issue 13): edits and deletes as events of the channel's stream, structured
-- mentions and their counts, direct message conversations, notification settings.
-- Design: docs/architecture.md, "The stream"; protocol/PROTOCOL.md §10.
--
-- * `seq` is a stream position: a message keeps the position it was posted at; each later change
--   (an edit, a delete) takes a new position from the same `UPDATE channels SET last_seq = …`,
--   in the change's transaction, and is recorded in message_changes. Messages hold the current
--   state; message_versions the previous versions of edited ones.
-- * A delete purges the body, mentions and previous versions at once (the search index follows
--   the UPDATE; the files are released by the caller in the same transaction) and leaves a
--   tombstone: author, time, seq, version.
-- * Adding columns with constant defaults rewrites nothing (PostgreSQL 11+), so this migration is
--   quick on a large messages table.

ALTER TABLE messages
    ADD COLUMN version     integer NOT NULL DEFAULT 1,      -- 1 when posted, +1 per edit and at the delete
    ADD COLUMN edited_at   timestamptz,                      -- the last edit
    ADD COLUMN deleted_at  timestamptz,                      -- a tombstone: body '' and no mentions
    ADD COLUMN deleted_by  bigint REFERENCES users ON DELETE SET NULL,
    ADD COLUMN mentions    bigint[] NOT NULL DEFAULT '{}',  -- ids of members mentioned (sorted, distinct)
    ADD COLUMN mention_all boolean NOT NULL DEFAULT false;  -- @channel

-- One row per change event: its own stream position, the message it changed, the version it made.
CREATE TABLE message_changes (
    channel_id  bigint NOT NULL,
    seq         bigint NOT NULL,
    message_seq bigint NOT NULL,
    version     integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('edit', 'delete')),
    user_id     bigint REFERENCES users ON DELETE SET NULL,  -- who made it
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (channel_id, seq),
    FOREIGN KEY (channel_id, message_seq) REFERENCES messages (channel_id, seq) ON DELETE CASCADE
);
CREATE INDEX message_changes_message_idx ON message_changes (channel_id, message_seq);

-- Change events wake every chatd process like new messages do (the same payload: the actor
-- reads everything up to `seq` back in position order).
CREATE TRIGGER message_changes_notify AFTER INSERT ON message_changes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chatd_notify_messages();

-- The previous versions of edited messages (op `versions`); gone with the message's delete.
CREATE TABLE message_versions (
    message_id  bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    version     integer NOT NULL,
    body        text NOT NULL,
    mentions    bigint[] NOT NULL,
    mention_all boolean NOT NULL,
    written_at  timestamptz NOT NULL,  -- when this version was written (posted, or its edit)
    PRIMARY KEY (message_id, version)
);

-- Direct message conversations: private channels of a fixed set of 1 to 8 people. `dm_key` is
-- the sorted member ids ("3,7,12"): the same people always find the same conversation. Their
-- name_key is U+0001 'dm:' dm_key, which no channel name can produce (names refuse control
-- characters), so a conversation never meets a channel name, and search's `dm:` can name it.
ALTER TABLE channels
    ADD COLUMN kind   text NOT NULL DEFAULT 'channel' CHECK (kind IN ('channel', 'dm')),
    ADD COLUMN dm_key text;
ALTER TABLE channels ADD CONSTRAINT channels_dm_key_ck CHECK ((kind = 'dm') = (dm_key IS NOT NULL));
CREATE UNIQUE INDEX channels_dm_key_uq ON channels (dm_key);

-- Notification settings per membership, so that every device agrees: NULL is the default of
-- the channel's kind ('all' for conversations, 'mentions' for channels).
ALTER TABLE channel_members
    ADD COLUMN notify text CHECK (notify IN ('all', 'mentions', 'nothing')),
    ADD COLUMN muted  boolean NOT NULL DEFAULT false;

-- Unread messages of p_user in a channel after p_after, and those that mention them: only
-- messages of others, never tombstones; capped at 9999 (chatd.store.channels.UNREAD_COUNT_CAP).
-- A set-returning SQL function, so that the planner inlines it into the queries that use it.
CREATE FUNCTION chatd_unread_counts(p_channel bigint, p_user bigint, p_after bigint)
RETURNS TABLE (unread bigint, mentions bigint) LANGUAGE sql STABLE AS $$
    SELECT count(*), count(*) FILTER (WHERE x.mention_all OR p_user = ANY(x.mentions))
    FROM (SELECT m.mentions, m.mention_all FROM messages m
          WHERE m.channel_id = p_channel AND m.seq > p_after AND m.user_id <> p_user AND m.deleted_at IS NULL
          LIMIT 9999) x
$$;

-- The members among p_users, sorted, each once: what a message may mention.
CREATE FUNCTION chatd_mentionable(p_channel bigint, p_users bigint[]) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT cm.user_id ORDER BY cm.user_id), '{}')
    FROM channel_members cm WHERE cm.channel_id = p_channel AND cm.user_id = ANY(p_users)
$$;

-- The sequencer's statement (0002), now with mentions: p_mention_idx[k] is the index in the batch
-- of the message that mentions p_mention_users[k]; p_all[i]: message i mentions @channel. Only
-- current members are kept, and the stored list comes back (a retry gets the stored one). A
-- batch without mentions costs what it did: the mention arrays are empty.
DROP FUNCTION chatd_post_messages(bigint, bigint[], bytea[], text[]);
CREATE FUNCTION chatd_post_messages(p_channel bigint, p_users bigint[], p_cids bytea[], p_bodies text[],
                                    p_mention_idx integer[] DEFAULT '{}', p_mention_users bigint[] DEFAULT '{}',
                                    p_all boolean[] DEFAULT '{}')
RETURNS TABLE (idx integer, ch bigint, seq bigint, id bigint, ts timestamptz, existed boolean, mentions bigint[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH input AS (
        SELECT i AS idx, p_users[i] AS user_id, p_cids[i] AS cid, p_bodies[i] AS body,
               coalesce(p_all[i], false) AS mention_all,
               CASE WHEN i = ANY(p_mention_idx) THEN chatd_mentionable(p_channel, ARRAY(
                   SELECT mu.u FROM unnest(p_mention_idx, p_mention_users) AS mu(k, u) WHERE mu.k = i))
                    ELSE '{}'::bigint[] END AS mentions,
               row_number() OVER (PARTITION BY p_users[i], p_cids[i] ORDER BY i) AS occurrence
        FROM generate_subscripts(p_users, 1) AS i
    ),
    stored AS (
        SELECT x.idx, old.channel_id, old.seq, old.id, old.created_at, old.mentions
        FROM input x
        CROSS JOIN LATERAL (
            SELECT m.channel_id, m.seq, m.id, m.created_at, m.mentions FROM messages m
            WHERE m.user_id = x.user_id AND m.cid = x.cid
            LIMIT 1
        ) old
    ),
    fresh AS (
        SELECT x.idx, x.user_id, x.cid, x.body, x.mentions, x.mention_all, row_number() OVER (ORDER BY x.idx) AS rank
        FROM input x
        WHERE x.occurrence = 1 AND NOT EXISTS (SELECT 1 FROM stored s WHERE s.idx = x.idx)
    ),
    bump AS (
        UPDATE channels c SET last_seq = c.last_seq + (SELECT count(*) FROM fresh)
        WHERE c.id = p_channel AND EXISTS (SELECT 1 FROM fresh)
        RETURNING c.last_seq - (SELECT count(*) FROM fresh) AS base
    ),
    ins AS (
        INSERT INTO messages (channel_id, seq, user_id, cid, body, mentions, mention_all)
        SELECT p_channel, bump.base + fresh.rank, fresh.user_id, fresh.cid, fresh.body, fresh.mentions,
               fresh.mention_all
        FROM fresh CROSS JOIN bump
        ORDER BY fresh.rank
        RETURNING messages.channel_id, messages.seq, messages.id, messages.user_id, messages.cid,
                  messages.created_at, messages.mentions
    )
    SELECT input.idx::integer,
           coalesce(ins.channel_id, stored.channel_id),
           coalesce(ins.seq, stored.seq),
           coalesce(ins.id, stored.id),
           coalesce(ins.created_at, stored.created_at),
           ins.seq IS NULL OR input.occurrence > 1,
           coalesce(ins.mentions, stored.mentions)
    FROM input
    LEFT JOIN ins ON ins.user_id = input.user_id AND ins.cid = input.cid
    LEFT JOIN stored ON stored.idx = input.idx
    ORDER BY input.idx;
END
$$;

-- An edit or a delete of message p_seq of p_channel by p_user, in one statement (the caller's
-- transaction also releases a deleted message's files). Checks, with the message's row locked:
-- it exists and is not deleted ('not_found'); an edit is its author's ('not_author') within
-- p_window_secs of posting (0: any time; 'window'); a delete is its author's within the window,
-- or p_moderator's (the channel's owner, an admin) at any time. An edit that changes nothing is
-- 'unchanged' and takes no position. Otherwise the change takes the next position, the previous
-- version is kept (an edit) or every trace of the content is purged (a delete), and `counts`
-- holds, for the users among p_readers (those with live connections) whose counts of the
-- channel the change moved, [user, unread, mentions, newly mentioned] — as of the new position.
CREATE FUNCTION chatd_change_message(
    p_channel bigint, p_seq bigint, p_user bigint, p_delete boolean,
    p_body text, p_mentions bigint[], p_all boolean,
    p_moderator boolean, p_window_secs integer, p_readers bigint[])
RETURNS TABLE (status text, pos bigint, message_id bigint, version integer, had_files boolean, counts jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    m messages%ROWTYPE;
    now_mentions bigint[] := '{}';
    now_all boolean := false;
    p bigint;
    c jsonb;
    in_window boolean;
BEGIN
    SELECT * INTO m FROM messages x WHERE x.channel_id = p_channel AND x.seq = p_seq FOR UPDATE;
    IF NOT FOUND OR m.deleted_at IS NOT NULL THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::bigint, NULL::bigint, NULL::integer, false, NULL::jsonb;
        RETURN;
    END IF;
    in_window := p_window_secs = 0 OR clock_timestamp() - m.created_at <= make_interval(secs => p_window_secs);
    IF NOT (p_delete AND p_moderator) AND (m.user_id <> p_user OR NOT in_window) THEN
        RETURN QUERY SELECT CASE WHEN m.user_id <> p_user THEN 'not_author' ELSE 'window' END,
                            NULL::bigint, m.id, m.version, false, NULL::jsonb;
        RETURN;
    END IF;
    IF NOT p_delete THEN
        now_mentions := chatd_mentionable(p_channel, coalesce(p_mentions, '{}'));
        now_all := coalesce(p_all, false);
        IF m.body = p_body AND m.mentions = now_mentions AND m.mention_all = now_all THEN
            RETURN QUERY SELECT 'unchanged'::text, NULL::bigint, m.id, m.version, false, NULL::jsonb;
            RETURN;
        END IF;
    END IF;
    UPDATE channels SET last_seq = last_seq + 1 WHERE id = p_channel RETURNING last_seq INTO p;
    IF p_delete THEN
        DELETE FROM message_versions WHERE message_versions.message_id = m.id;
        UPDATE messages SET body = '', mentions = '{}', mention_all = false, version = m.version + 1,
                            deleted_at = clock_timestamp(), deleted_by = p_user
        WHERE id = m.id;
    ELSE
        INSERT INTO message_versions (message_id, version, body, mentions, mention_all, written_at)
        VALUES (m.id, m.version, m.body, m.mentions, m.mention_all, coalesce(m.edited_at, m.created_at));
        UPDATE messages SET body = p_body, mentions = now_mentions, mention_all = now_all,
                            version = m.version + 1, edited_at = clock_timestamp()
        WHERE id = m.id;
    END IF;
    INSERT INTO message_changes (channel_id, seq, message_seq, version, kind, user_id)
    VALUES (p_channel, p, p_seq, m.version + 1, CASE WHEN p_delete THEN 'delete' ELSE 'edit' END, p_user);
    -- Whose counts moved: a delete takes an unread message from everyone behind it; an edit
    -- only moves those whose "mentioned" changed.
    SELECT coalesce(jsonb_agg(jsonb_build_array(cm.user_id, n.unread, n.mentions,
                                                NOT (m.mention_all OR cm.user_id = ANY(m.mentions))
                                                AND (now_all OR cm.user_id = ANY(now_mentions)))), '[]')
    INTO c
    FROM channel_members cm
    CROSS JOIN LATERAL chatd_unread_counts(p_channel, cm.user_id, cm.read_seq) n
    WHERE cm.channel_id = p_channel AND cm.user_id = ANY(p_readers) AND cm.user_id <> m.user_id
      AND cm.read_seq < p_seq
      AND (p_delete OR (m.mention_all OR cm.user_id = ANY(m.mentions))
                       <> (now_all OR cm.user_id = ANY(now_mentions)));
    RETURN QUERY SELECT 'ok'::text, p, m.id, m.version + 1, m.has_files, c;
END
$$;

-- Search: `is:mention` matches marker lexemes of a message's mentions (' @<user id>', and
-- ' @all' for @channel; the leading space: no text can produce them), never the text; deleted
-- messages have no index row. The insert and update triggers and chatd_search_refresh (the
-- reindex, the backfill, attachment changes) build the row from all three parts.
CREATE FUNCTION chatd_search_mentions(p_mentions bigint[], p_all boolean) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(array(SELECT ' @' || x FROM unnest(p_mentions) AS x)
                             || CASE WHEN p_all THEN ARRAY[' @all'] ELSE '{}'::text[] END)
$$;

CREATE OR REPLACE FUNCTION chatd_search_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH ins AS (
        INSERT INTO message_search (id, channel_id, user_id, created_at, tsv)
        SELECT n.id, n.channel_id, n.user_id, n.created_at,
               chatd_search_vector(n.body) || chatd_search_attachments(n.id)
               || chatd_search_mentions(n.mentions, n.mention_all)
        FROM new_rows n
        WHERE n.deleted_at IS NULL
        RETURNING id
    )
    INSERT INTO search_learn_queue (id) SELECT id FROM ins;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION chatd_search_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM chatd_search_refresh(array_agg(n.id))
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.body IS DISTINCT FROM o.body OR n.channel_id <> o.channel_id OR n.user_id <> o.user_id
       OR n.created_at <> o.created_at OR n.mentions IS DISTINCT FROM o.mentions
       OR n.mention_all <> o.mention_all OR n.deleted_at IS DISTINCT FROM o.deleted_at
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION chatd_search_refresh(p_ids bigint[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    vectors tsvector[];
BEGIN
    WITH doc AS (
        SELECT m.id, m.channel_id, m.user_id, m.created_at,
               chatd_search_vector(m.body) || chatd_search_attachments(m.id)
               || chatd_search_mentions(m.mentions, m.mention_all) AS tsv
        FROM messages m WHERE m.id = ANY(p_ids) AND m.deleted_at IS NULL
    ), up AS (
        INSERT INTO message_search AS s (id, channel_id, user_id, created_at, tsv)
        SELECT * FROM doc
        ON CONFLICT (id) DO UPDATE SET channel_id = excluded.channel_id, user_id = excluded.user_id,
                                       created_at = excluded.created_at, tsv = excluded.tsv
        WHERE s.tsv IS DISTINCT FROM excluded.tsv OR s.channel_id <> excluded.channel_id
           OR s.user_id <> excluded.user_id OR s.created_at <> excluded.created_at
        RETURNING s.tsv
    )
    SELECT count(*), array_agg(tsv) INTO n, vectors FROM up;
    DELETE FROM message_search s WHERE s.id = ANY(p_ids)
        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.id AND m.deleted_at IS NULL);
    PERFORM chatd_search_learn(vectors) WHERE vectors IS NOT NULL;
    RETURN n;
END
$$;
