-- chatd core schema: accounts, sessions, invites, channels, members, messages.
-- Released migrations are never edited: later changes go into a new numbered file.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL,               -- as chosen (NFC), shown to others
    username_key  text NOT NULL,               -- NFKC + case-folded: what uniqueness is about
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- The unique index on the normalised form is what makes two racing registrations safe.
CREATE UNIQUE INDEX users_username_key_uq ON users (username_key);

CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    token_hash   bytea NOT NULL,                -- SHA-256 of the token; the token itself is never stored
    kind         text NOT NULL DEFAULT 'web' CHECK (kind IN ('web', 'api')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,          -- absolute lifetime; idle expiry is last_seen_at + idle
    revoked_at   timestamptz,
    client_addr  text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_token_hash_uq ON sessions (token_hash);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE invites (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash  bytea NOT NULL,
    note       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    used_by    bigint REFERENCES users ON DELETE SET NULL,
    revoked_at timestamptz
);
CREATE UNIQUE INDEX invites_code_hash_uq ON invites (code_hash);

CREATE TABLE channels (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,                 -- NFC, as chosen
    name_key    text NOT NULL,                 -- NFKC + case-folded: uniqueness
    description text NOT NULL DEFAULT '',
    private     boolean NOT NULL DEFAULT false,
    created_by  bigint REFERENCES users ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seq    bigint NOT NULL DEFAULT 0      -- the sequencer's counter: seqs are dense per channel
);
CREATE UNIQUE INDEX channels_name_key_uq ON channels (name_key);

CREATE TABLE channel_members (
    channel_id bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    role       text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
    joined_at  timestamptz NOT NULL DEFAULT now(),
    read_seq   bigint NOT NULL DEFAULT 0,      -- read marker: the highest seq the user has seen
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user_idx ON channel_members (user_id);

CREATE TABLE messages (
    channel_id bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    seq        bigint NOT NULL,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    user_id    bigint NOT NULL REFERENCES users,
    cid        bytea NOT NULL CHECK (octet_length(cid) = 16),
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (channel_id, seq)
);
CREATE UNIQUE INDEX messages_id_uq ON messages (id);
-- A retried send carries the same client id: this index is what makes it exactly-once.
CREATE UNIQUE INDEX messages_sender_cid_uq ON messages (user_id, cid);

-- Every committed batch of messages wakes every chatd process (and so messages posted by the CLI
-- or another process reach live clients). NOTIFY is delivered at commit, never before.
CREATE FUNCTION chatd_notify_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('chatd_events', json_build_object('t', 'msg', 'ch', channel_id, 'seq', max(seq))::text)
    FROM new_rows GROUP BY channel_id;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_notify AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chatd_notify_messages();

-- The sequencer's one round trip: post a batch of messages to one channel, in one statement.
-- Retries (a (user, cid) already stored, or repeated inside the batch) get the stored row back
-- with existed = true; new ones get dense seqs from one UPDATE of channels.last_seq, whose row
-- lock serialises concurrent writers of the same channel. A row with a NULL seq means the channel
-- does not exist. Two racing transactions with the same (user, cid) make one fail with a unique
-- violation; the caller retries and then finds the stored row.
CREATE FUNCTION chatd_post_messages(p_channel bigint, p_users bigint[], p_cids bytea[], p_bodies text[])
RETURNS TABLE (idx integer, ch bigint, seq bigint, id bigint, ts timestamptz, existed boolean)
LANGUAGE sql AS $$
    WITH input AS (
        SELECT i AS idx, p_users[i] AS user_id, p_cids[i] AS cid, p_bodies[i] AS body,
               row_number() OVER (PARTITION BY p_users[i], p_cids[i] ORDER BY i) AS occurrence
        FROM generate_subscripts(p_users, 1) AS i
    ),
    fresh AS (
        SELECT x.idx, x.user_id, x.cid, x.body, row_number() OVER (ORDER BY x.idx) AS rank
        FROM input x
        WHERE x.occurrence = 1
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.user_id = x.user_id AND m.cid = x.cid)
    ),
    bump AS (
        UPDATE channels c SET last_seq = c.last_seq + (SELECT count(*) FROM fresh)
        WHERE c.id = p_channel AND EXISTS (SELECT 1 FROM fresh)
        RETURNING c.last_seq - (SELECT count(*) FROM fresh) AS base
    ),
    ins AS (
        INSERT INTO messages (channel_id, seq, user_id, cid, body)
        SELECT p_channel, bump.base + fresh.rank, fresh.user_id, fresh.cid, fresh.body
        FROM fresh CROSS JOIN bump
        ORDER BY fresh.rank
        RETURNING messages.channel_id, messages.seq, messages.id, messages.user_id, messages.cid,
                  messages.created_at
    )
    SELECT input.idx::integer,
           coalesce(ins.channel_id, old.channel_id),
           coalesce(ins.seq, old.seq),
           coalesce(ins.id, old.id),
           coalesce(ins.created_at, old.created_at),
           ins.seq IS NULL OR input.occurrence > 1
    FROM input
    LEFT JOIN ins ON ins.user_id = input.user_id AND ins.cid = input.cid
    LEFT JOIN messages old ON old.user_id = input.user_id AND old.cid = input.cid
    ORDER BY input.idx
$$;
