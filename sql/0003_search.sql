-- Search (issue 11): a word index of every message, kept in step with `messages` by triggers,
-- a lexicon of the words it holds (substrings and spelling), and the functions that answer a
-- search with the reader's membership joined in. Design: docs/search.md.
--
-- * message_search: one row per message (id, channel, author, time, tsvector), written by the
--   statement triggers on `messages` in the same statement as the insert, so a message is
--   findable as soon as its send is acked and chatd_post_messages stays one round trip.
--   UPDATE of a body re-indexes it, DELETE removes it: edits and deletes need do nothing.
-- * The tsvector is built here, not by a text search parser (which depends on the locale and
--   splits hostnames, paths and CJK badly): words accent- and case-folded, no stop words; tokens
--   with . / - _ : @ # ' and camelCase are indexed whole and by their parts; CJK runs as
--   overlapping bigrams; emoji as themselves; a marker lexeme ' has:link' (the leading space
--   can never come from text) for messages with a link.
-- * search_words: every lexeme of 3+ characters ever indexed, with a trigram index. A query word
--   of 3+ characters also matches the words that contain it (its 64 shortest ones), and
--   spelling suggestions come from here (checked against messages the reader can see). A send
--   only queues its message for it (search_learn_queue); the next search learns the words.
--
-- Existing messages are indexed after this file commits, in batches of their own transaction,
-- by a background task of `chatd serve` (chatd.services.backfill_search; or `chatd search
-- reindex`): this file only records where the backfill starts, so the migration is quick.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- Unicode lower case whatever the database's own locale (a "C" database lowercases only ASCII):
-- the first of these collations that exists. PostgreSQL 17+ has pg_c_utf8 built in; ICU builds
-- have und-x-icu; glibc has C.utf8.
DO $$
DECLARE
    coll text;
BEGIN
    SELECT collname INTO coll FROM pg_collation
    WHERE collname IN ('pg_c_utf8', 'und-x-icu', 'C.utf8', 'C.UTF-8')
      AND collencoding IN (-1, pg_char_to_encoding('UTF8'))
    ORDER BY array_position(ARRAY['pg_c_utf8', 'und-x-icu', 'C.utf8', 'C.UTF-8'], collname::text)
    LIMIT 1;
    EXECUTE format(
        'CREATE FUNCTION chatd_search_lower(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE '
        'AS $f$ SELECT lower(t%s) $f$',
        CASE WHEN coll IS NULL THEN '' ELSE format(' COLLATE %I', coll) END);
END
$$;

-- Compatibility forms (fullwidth letters, ligatures), accents and other marks (Latin, Greek,
-- Hebrew points, Arabic harakat), invisible format characters, variation selectors and emoji
-- skin tones removed; then unaccent for what does not decompose (ø ł ß æ). Case is kept.
CREATE FUNCTION chatd_search_prepare(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT unaccent('unaccent', normalize(regexp_replace(normalize(t, NFKD),
        '[\u00AD\u034F\u061C\u17B4\u17B5\u180B-\u180F\u200C-\u200F\u202A-\u202E\u2060-\u206F\uFE00-\uFE0F\uFEFF'
        '\U0001F3FB-\U0001F3FF\U000E0000-\U000E0FFF\u0300-\u036F\u0483-\u0489\u0591-\u05BD\u05BF\u05C1\u05C2'
        '\u05C4\u05C5\u05C7\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E4\u06E7\u06E8\u06EA-\u06ED'
        '\u0640\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F]', '', 'g'), NFC))
$$;

-- The folded form of a search term as the lexicon holds words: prepared, lower case, soft
-- separators trimmed from both ends; NULL if it has characters that split tokens.
CREATE FUNCTION chatd_search_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN f ~ '[\u0000-\u0020\u007F-\u00A0!"(),;<>?\[\]{}|`\u00A1\u00A7\u00AB\u00B6\u00BB\u00BF\u037E'
                          '\u055A-\u055F\u0589\u05C0\u05C3\u05C6\u060C\u061B\u061F\u066A-\u066D\u06D4\u0964\u0965'
                          '\u1361-\u1368\u1680\u2000-\u200B\u2012-\u2018\u201A-\u2027\u2028-\u205F\u3000-\u3004'
                          '\u3008-\u3020\u3030\u30FB]'
                THEN NULL ELSE f END
    FROM (SELECT btrim(chatd_search_lower(chatd_search_prepare(t)),
                       U&'./\\:@#''+=&%~$*^\00B7\2010\2011\2019\05BE\05F3\05F4\E000_-') AS f) x
$$;

-- The tokenizer: the lexemes of `t` with their positions and kinds, in text order.
--   'p' a word, or a part of a token (deploy-1307.prod.internal: deploy, 1307, prod, internal)
--   'w' the whole of a token of several parts, at its first part's position (documents only)
--   'm' a token with a leading @ or #, kept whole (@alice, #general); a query uses only it
--   'c' a CJK bigram, or a lone CJK character; 't' the last character of a run (documents only)
--   'e' an emoji
-- Hard separators (white space, brackets, quotes, , ; ! ? | and their Unicode kin) end tokens;
-- soft ones (. / \ : @ # ' + = & % ~ $ * ^ _ - and U+E000, the camelCase mark) split parts.
-- A token's parts take consecutive positions, so "PLT-3699" is the phrase plt <-> 3699.
CREATE FUNCTION chatd_search_lexemes(t text, for_query boolean DEFAULT false,
                                     OUT lex text[], OUT pos integer[], OUT kind "char"[])
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    soft constant text := U&'./\\:@#''+=&%~$*^\00B7\2010\2011\2019\05BE\05F3\05F4\E000_-';
    blanks constant text := repeat(' ', 26);
    s text;
    tok text;
    core text;
    part text;
    parts text[];
    p integer := 1;
    n integer;
    i integer;
BEGIN
    lex := '{}'; pos := '{}'; kind := '{}';
    IF octet_length(t) = char_length(t) THEN  -- ASCII only: nothing to normalise
        s := t;
    ELSE  -- emoji and CJK runs become tokens of their own
        s := regexp_replace(chatd_search_prepare(t),
            '([\u00A9\u00AE\u2190-\u21FF\u2300-\u23FF\u25A0-\u25FF\u2600-\u27BF\u2900-\u297F\u2B00-\u2BFF'
            '\U0001F000-\U0001F3FA\U0001F400-\U0001FAFF]|[\u1100-\u11FF\u3005-\u3007\u3040-\u309F\u30A0-\u30FA'
            '\u30FC-\u30FF\u3130-\u318F\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uA960-\uA97F\uAC00-\uD7FF'
            '\uF900-\uFAFF\U00020000-\U0003134F]+)', ' \1 ', 'g');
    END IF;
    -- camelCase and HTTPServer boundaries get a mark (U+E000) that splits parts
    s := regexp_replace(regexp_replace(s, '([a-z])([A-Z])', U&'\1!E000\2' UESCAPE '!', 'g'),
                        '([A-Z])([A-Z][a-z])', U&'\1!E000\2' UESCAPE '!', 'g');
    s := CASE WHEN octet_length(s) = char_length(s) THEN lower(s) ELSE chatd_search_lower(s) END;
    FOREACH tok IN ARRAY regexp_split_to_array(s,
        '[\u0000-\u0020\u007F-\u00A0!"(),;<>?\[\]{}|`\u00A1\u00A7\u00AB\u00B6\u00BB\u00BF\u037E\u055A-\u055F\u0589'
        '\u05C0\u05C3\u05C6\u060C\u061B\u061F\u066A-\u066D\u06D4\u0964\u0965\u1361-\u1368\u1680\u2000-\u200B'
        '\u2012-\u2018\u201A-\u2027\u2028-\u205F\u3000-\u3004\u3008-\u3020\u3030\u30FB]+')
    LOOP
        -- a plain word (no soft separator, and not a CJK run or an emoji): the common case, one test
        IF ascii(tok) < 4352 AND tok !~ U&'[./\\\\:@#''+=&%~$*^\00B7\2010\2011\2019\05BE\05F3\05F4\E000_-]' THEN
            CONTINUE WHEN tok = '';
            lex := lex || tok; pos := pos || p; kind := kind || 'p'::"char";
            p := p + 1;
            CONTINUE;
        END IF;
        core := ltrim(rtrim(tok, soft), soft);
        CONTINUE WHEN core = '';
        IF ascii(core) >= 4352 AND core ~ '^[\u1100-\u11FF\u3005-\u3007\u3040-\u309F\u30A0-\u30FA\u30FC-\u30FF'
                                           '\u3130-\u318F\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uA960-\uA97F'
                                           '\uAC00-\uD7FF\uF900-\uFAFF\U00020000-\U0003134F]' THEN
            n := char_length(core);
            IF n = 1 THEN
                lex := lex || core; pos := pos || p; kind := kind || 'c'::"char";
            ELSE
                FOR i IN 1 .. n - 1 LOOP
                    lex := lex || substr(core, i, 2); pos := pos || (p + i - 1); kind := kind || 'c'::"char";
                END LOOP;
                IF NOT for_query THEN
                    lex := lex || right(core, 1); pos := pos || (p + n - 1); kind := kind || 't'::"char";
                END IF;
            END IF;
            p := p + n;
            CONTINUE;
        END IF;
        IF ascii(core) >= 8592 AND char_length(core) = 1 AND core ~ '^[\u2190-\u21FF\u2300-\u23FF\u25A0-\u25FF'
                                     '\u2600-\u27BF\u2900-\u297F\u2B00-\u2BFF\U0001F000-\U0001FAFF]' THEN
            lex := lex || core; pos := pos || p; kind := kind || 'e'::"char";
            p := p + 1;
            CONTINUE;
        END IF;
        parts := array_remove(string_to_array(translate(core, soft, blanks), ' '), '');
        n := cardinality(parts);
        IF left(tok, 1) IN ('@', '#') AND left(core, 1) = substr(tok, 2, 1) THEN
            lex := lex || (left(tok, 1) || replace(core, U&'\E000', '')); pos := pos || p; kind := kind || 'm'::"char";
            IF for_query THEN
                p := p + n;
                CONTINUE;
            END IF;
        ELSIF n > 1 AND NOT for_query THEN
            lex := lex || replace(core, U&'\E000', ''); pos := pos || p; kind := kind || 'w'::"char";
        END IF;
        FOREACH part IN ARRAY parts LOOP
            lex := lex || part; pos := pos || p; kind := kind || 'p'::"char";
            p := p + 1;
        END LOOP;
    END LOOP;
END
$$;

-- A lexeme as a quoted tsvector/tsquery item.
CREATE FUNCTION chatd_search_quote(w text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT '''' || replace(replace(w, '\', '\\'), '''', '''''') || ''''
$$;

-- The tsvector of a message body. Lexemes over 255 characters (base64, minified code) are left
-- out; positions stop at 16383, PostgreSQL's largest.
CREATE FUNCTION chatd_search_vector(t text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    r record;
    buf text := '';
    i integer;
BEGIN
    r := chatd_search_lexemes(t);
    FOR i IN 1 .. cardinality(r.lex) LOOP
        CONTINUE WHEN char_length(r.lex[i]) > 255;
        buf := buf || ' ' || chatd_search_quote(r.lex[i]) || ':' || least(r.pos[i], 16383);
    END LOOP;
    IF t ~* '(https?://|www\.)[^\s/]' THEN
        buf := buf || ' '' has:link''';
    END IF;
    RETURN buf::tsvector;
END
$$;

-- What a message's attachments add to its index: their file names' words and the markers
-- ' has:file' and ' has:image'. Nothing until attachments exist: the files migration replaces
-- this function and calls chatd_search_refresh() for messages whose attachments change.
CREATE FUNCTION chatd_search_attachments(p_message bigint) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ''::tsvector
$$;

CREATE TABLE message_search (
    id         bigint PRIMARY KEY,          -- messages.id
    channel_id bigint NOT NULL,
    user_id    bigint NOT NULL,
    created_at timestamptz NOT NULL,
    tsv        tsvector NOT NULL
);
-- fastupdate off: each insert pays its share at once (tens of microseconds) instead of a send
-- now and then paying for the flush of the whole pending list (a 236 ms pause measured, A2).
CREATE INDEX message_search_tsv_idx ON message_search USING gin (tsv) WITH (fastupdate = off);
CREATE INDEX message_search_channel_idx ON message_search (channel_id, id);
CREATE INDEX message_search_user_idx ON message_search (user_id, id);
CREATE INDEX message_search_time_idx ON message_search (created_at);
-- A thousand most common words in the statistics instead of a hundred: the planner's estimate of
-- a rare word (and of the dozens of words a substring expands to) is then close, not a default.
ALTER TABLE message_search ALTER COLUMN tsv SET STATISTICS 1000;

CREATE TABLE search_words (word text PRIMARY KEY);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

-- Messages whose words have not joined the lexicon yet. A send only queues its id here (a few
-- microseconds); learning its words (~120 µs: a probe per word, trigram entries per new word)
-- is done by the next search (chatd_search_learn_queued) or by chatd's background task,
-- whichever comes first. No index: it is drained whole, by tuple id.
CREATE TABLE search_learn_queue (id bigint NOT NULL);

-- Where the backfill of messages older than this file stands: every message with an id below
-- `below` still has to be indexed (chatd.store.search.backfill lowers it batch by batch).
CREATE TABLE search_backfill (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    below bigint NOT NULL
);

-- Lexemes of 3+ characters (not the markers) join the lexicon, in sorted order so that two
-- transactions adding the same new words cannot deadlock.
CREATE FUNCTION chatd_search_learn(p_vectors tsvector[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_words (word)
    SELECT DISTINCT w FROM unnest(p_vectors) AS v, unnest(tsvector_to_array(v)) AS w
    WHERE char_length(w) >= 3 AND left(w, 1) <> ' '
    ORDER BY w
    ON CONFLICT (word) DO NOTHING
$$;

-- (Re)index the given messages from their current rows: the reindex, the backfill, and the
-- files migration (when a message's attachments change) use it.
CREATE FUNCTION chatd_search_refresh(p_ids bigint[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    vectors tsvector[];
BEGIN
    WITH doc AS (
        SELECT m.id, m.channel_id, m.user_id, m.created_at,
               chatd_search_vector(m.body) || chatd_search_attachments(m.id) AS tsv
        FROM messages m WHERE m.id = ANY(p_ids)
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
    DELETE FROM message_search s WHERE s.id = ANY(p_ids) AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.id);
    PERFORM chatd_search_learn(vectors) WHERE vectors IS NOT NULL;
    RETURN n;
END
$$;

-- Learn the words of up to `batch` queued messages (rows locked by another learner are left
-- to it). Returns how many messages were learned.
CREATE FUNCTION chatd_search_learn_queued(batch integer DEFAULT 5000) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    vectors tsvector[];
BEGIN
    WITH q AS (
        DELETE FROM search_learn_queue
        WHERE ctid = ANY(ARRAY(SELECT ctid FROM search_learn_queue LIMIT batch FOR UPDATE SKIP LOCKED))
        RETURNING id
    )
    SELECT count(*), array_agg(s.tsv) INTO n, vectors FROM q LEFT JOIN message_search s ON s.id = q.id;
    PERFORM chatd_search_learn(array_remove(vectors, NULL)) WHERE n > 0;
    RETURN n;
END
$$;

-- The triggers: statement-level, so a batch of the hub is indexed by one INSERT.
CREATE FUNCTION chatd_search_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH ins AS (
        INSERT INTO message_search (id, channel_id, user_id, created_at, tsv)
        SELECT n.id, n.channel_id, n.user_id, n.created_at, chatd_search_vector(n.body) || chatd_search_attachments(n.id)
        FROM new_rows n
        RETURNING id
    )
    INSERT INTO search_learn_queue (id) SELECT id FROM ins;
    RETURN NULL;
END
$$;

CREATE FUNCTION chatd_search_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM chatd_search_refresh(array_agg(n.id))
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.body IS DISTINCT FROM o.body OR n.channel_id <> o.channel_id OR n.user_id <> o.user_id
       OR n.created_at <> o.created_at
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION chatd_search_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_search s USING old_rows o WHERE s.id = o.id;
    RETURN NULL;
END
$$;

CREATE FUNCTION chatd_search_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE message_search;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chatd_search_on_insert();
CREATE TRIGGER messages_search_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chatd_search_on_update();
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION chatd_search_on_delete();
CREATE TRIGGER messages_search_truncate AFTER TRUNCATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION chatd_search_on_truncate();

-- The triggers now index every new message (CREATE TRIGGER waited for writers in flight), so
-- the backfill covers exactly the ids below the largest one committed so far.
INSERT INTO search_backfill (below) SELECT coalesce(max(id), 0) + 1 FROM messages;

-- ---------------------------------------------------------------------------------------------
-- Queries. chatd.searchlang parses what the user typed; these turn its terms into a tsquery and
-- run the search with the reader's membership joined in.

-- The words of the lexicon LIKE `pattern` (already escaped): the 64 shortest, as alternatives;
-- `complete`: there are no more. Looked up exactly, not as GIN prefixes: a prefix scan
-- ('server':*) costs a bitmap of every word it covers, ~5 ms, where 64 exact words cost well
-- under one.
CREATE FUNCTION chatd_search_words(pattern text, OUT q tsquery, OUT complete boolean)
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    words text[];
BEGIN
    -- EXECUTE: planned with the pattern known, so that the trigram index serves it
    EXECUTE 'SELECT array(SELECT word FROM search_words WHERE word LIKE $1 ORDER BY char_length(word), word LIMIT 65)'
        INTO words USING pattern;
    complete := cardinality(words) <= 64;
    q := (SELECT string_agg(chatd_search_quote(w), ' | ')::tsquery FROM unnest(words[1:64]) AS w);
END
$$;

CREATE FUNCTION chatd_search_like(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT replace(replace(replace(t, '\', '\\'), '%', '\%'), '_', '\_')
$$;

-- One term as a tsquery: its lexemes as a phrase (a token of parts, a CJK run as chained
-- bigrams, a quoted phrase). `prefix`: the last one matches as a prefix (the user's word*).
-- `complete`: the last one also matches the lexicon's words that start with it, if it is 3+
-- characters long or follows other parts (so "prod.int" finds prod.internal, "PLT-36" finds
-- PLT-3699). NULL: nothing to match.
CREATE FUNCTION chatd_search_term(t text, prefix boolean, complete boolean DEFAULT false) RETURNS tsquery
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    r record;
    buf text := '';
    item text;
    more tsquery;
    prev integer;
    i integer;
    n integer;
BEGIN
    r := chatd_search_lexemes(t, true);
    n := cardinality(r.lex);
    FOR i IN 1 .. n LOOP
        IF buf <> '' THEN
            buf := buf || ' <' || least(r.pos[i] - prev, 16383) || '> ';
        END IF;
        item := chatd_search_quote(r.lex[i]);
        -- a lone CJK character: any bigram it starts (or a run it ends, indexed alone)
        IF (prefix AND i = n) OR (r.kind[i] = 'c' AND char_length(r.lex[i]) = 1) THEN
            item := item || ':*';
        ELSIF complete AND i = n AND r.kind[i] = 'p' AND (n > 1 OR char_length(r.lex[i]) >= 3) THEN
            more := (chatd_search_words(chatd_search_like(r.lex[i]) || '_%')).q;
            IF more IS NOT NULL THEN
                item := '( ' || item || ' | ' || more::text || ' )';
            END IF;
        END IF;
        buf := buf || item;
        prev := r.pos[i];
    END LOOP;
    RETURN CASE WHEN buf = '' THEN NULL ELSE buf::tsquery END;
END
$$;

-- The words of the lexicon that contain the folded term (3+ characters): the 64 shortest.
CREATE FUNCTION chatd_search_expand(t text, OUT q tsquery, OUT complete boolean)
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    f text := chatd_search_fold(t);
BEGIN
    complete := true;
    IF char_length(f) >= 3 THEN
        SELECT w.q, w.complete INTO q, complete FROM chatd_search_words('%' || chatd_search_like(f) || '%') AS w;
    END IF;
END
$$;

-- How many messages the planner expects to match `q` (its statistics of the most common words).
CREATE FUNCTION chatd_search_estimate(q tsquery) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM message_search s WHERE s.tsv @@ $1' INTO plan USING q;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END
$$;

-- The terms of a query as one tsquery. p_modes: 1 prefix, 2 exact (a quoted phrase: no
-- substring matches), 4 excluded, 8 a marker lexeme taken as it is (' has:link'). Terms of one
-- group are alternatives (OR); groups must all match. `what`:
--   'match'   the terms to find; a word of 3+ characters also matches the lexicon words that
--             contain it, and — when there are more than 64 of those — the last part of a token
--             the words that start with it; unless it is a common word itself (in over 1000
--             messages: "the" must not also find "other", "there", "then"…, and their index
--             entries would cost tens of ms);
--   'rank'    the same terms, only as written (relevance counts those fully);
--   'exclude' the excluded terms, as written (any of them excludes a message: "-test" must not
--             exclude "latest").
CREATE FUNCTION chatd_search_query(p_terms text[], p_modes integer[], p_groups integer[], what text)
RETURNS tsquery LANGUAGE plpgsql AS $$
DECLARE
    groups tsquery[] := '{}';
    keys integer[] := '{}';
    q tsquery;
    x record;
    result tsquery;
    expand boolean := what = 'match';
    i integer;
    g integer;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_terms), 0) LOOP
        CONTINUE WHEN (p_modes[i] & 4 <> 0) <> (what = 'exclude');
        IF p_modes[i] & 8 <> 0 THEN
            q := chatd_search_quote(p_terms[i])::tsquery;
        ELSE
            q := chatd_search_term(p_terms[i], p_modes[i] & 1 <> 0, false);
            IF expand AND p_modes[i] & 3 = 0 AND (q IS NULL OR chatd_search_estimate(q) <= 1000) THEN
                x := chatd_search_expand(p_terms[i]);
                IF x.q IS NOT NULL AND NOT x.complete THEN  -- the 64 did not cover every word containing it
                    q := chatd_search_term(p_terms[i], false, true);
                END IF;
                q := CASE WHEN q IS NULL THEN x.q WHEN x.q IS NULL THEN q ELSE q || x.q END;
            END IF;
        END IF;
        CONTINUE WHEN q IS NULL;
        IF what = 'exclude' THEN
            result := CASE WHEN result IS NULL THEN q ELSE result || q END;
            CONTINUE;
        END IF;
        g := array_position(keys, p_groups[i]);
        IF g IS NULL THEN
            keys := keys || p_groups[i];
            groups := groups || q;
        ELSE
            groups[g] := groups[g] || q;
        END IF;
    END LOOP;
    FOREACH q IN ARRAY groups LOOP
        result := CASE WHEN result IS NULL THEN q ELSE result && q END;
    END LOOP;
    RETURN result;
END
$$;

-- Highlights of a body: [start, length, start, length…] in characters (code points), unsorted.
-- `words`: the query's lexemes, marked where they stand as a whole word or part (between
-- separators, or at a camelCase boundary; anywhere for non-ASCII ones: CJK has no spaces);
-- `subs`: the folded terms that also matched as substrings, marked anywhere. Found in the folded
-- body, whose characters line up with the body's unless folding changed its length (ß → ss):
-- then each token containing a needle is marked whole.
CREATE FUNCTION chatd_search_highlights(body text, words text[], subs text[]) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    seps constant text := U&' \0009\000A\000D.,;:!?()[]{}<>"''/\\-_@#*+=&%~$^|`\00A0\2019';
    out integer[] := '{}';
    folded text;
    needle text;
    bounded boolean;
    at integer;
    j integer;
    len integer;
    c text;
BEGIN
    folded := CASE WHEN octet_length(body) = char_length(body) THEN lower(body)
                   ELSE chatd_search_lower(chatd_search_prepare(body)) END;
    IF char_length(folded) <> char_length(body) THEN
        RETURN chatd_search_highlights_by_token(body, words || subs);
    END IF;
    FOREACH needle IN ARRAY words || subs LOOP
        CONTINUE WHEN needle = '';
        bounded := needle = ANY(words) AND octet_length(needle) = char_length(needle);
        len := char_length(needle);
        at := 0;
        LOOP
            j := strpos(substr(folded, at + 1), needle);
            EXIT WHEN j = 0;
            at := at + j;  -- 1-based start of this occurrence
            IF bounded THEN
                c := substr(body, at - 1, 1);
                CONTINUE WHEN at > 1 AND strpos(seps, c) = 0
                              AND NOT (c BETWEEN 'a' AND 'z' AND substr(body, at, 1) BETWEEN 'A' AND 'Z');
                c := substr(body, at + len, 1);
                CONTINUE WHEN c <> '' AND strpos(seps, c) = 0
                              AND NOT (c BETWEEN 'A' AND 'Z' AND substr(body, at + len - 1, 1) BETWEEN 'a' AND 'z');
            END IF;
            out := out || ARRAY[at - 1, len];
        END LOOP;
    END LOOP;
    RETURN out;
END
$$;

-- Highlights token by token (see above): each token of the body that contains a needle once
-- folded is marked whole.
CREATE FUNCTION chatd_search_highlights_by_token(body text, needles text[]) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    out integer[] := '{}';
    m text[];
    at integer := 0;
    folded text;
    needle text;
BEGIN
    FOR m IN SELECT regexp_matches(body,
        '([\u0000-\u0020\u007F-\u00A0!"(),;<>?\[\]{}|`\u00A1\u00A7\u00AB\u00B6\u00BB\u00BF\u037E\u055A-\u055F\u0589'
        '\u05C0\u05C3\u05C6\u060C\u061B\u061F\u066A-\u066D\u06D4\u0964\u0965\u1361-\u1368\u1680\u2000-\u200B'
        '\u2012-\u2018\u201A-\u2027\u2028-\u205F\u3000-\u3004\u3008-\u3020\u3030\u30FB]+)|([^\u0000-\u0020'
        '\u007F-\u00A0!"(),;<>?\[\]{}|`\u00A1\u00A7\u00AB\u00B6\u00BB\u00BF\u037E\u055A-\u055F\u0589\u05C0\u05C3'
        '\u05C6\u060C\u061B\u061F\u066A-\u066D\u06D4\u0964\u0965\u1361-\u1368\u1680\u2000-\u200B\u2012-\u2018'
        '\u201A-\u2027\u2028-\u205F\u3000-\u3004\u3008-\u3020\u3030\u30FB]+)', 'g')
    LOOP
        IF m[2] IS NOT NULL THEN
            folded := chatd_search_lower(chatd_search_prepare(m[2]));
            FOREACH needle IN ARRAY needles LOOP
                IF needle <> '' AND strpos(folded, needle) > 0 THEN
                    out := out || ARRAY[at, char_length(m[2])];
                    EXIT;
                END IF;
            END LOOP;
            at := at + char_length(m[2]);
        ELSE
            at := at + char_length(m[1]);
        END IF;
    END LOOP;
    RETURN out;
END
$$;

-- The ids of the newest k messages below `below` that match `cond` (a WHERE clause over
-- message_search s: $1 channels, $2 snapshot, $3 query, $4 authors, $5 excluded authors,
-- $6 since, $7 until, $14 excluded words; $8 is unused), newest first. `walk`: walk back through the ids, at most 100,000 of them, then (if that found fewer
-- than k) through the bitmaps for the rest; else through the bitmaps, then a top-k sort.
CREATE FUNCTION chatd_search_newest(cond text, walk boolean, k integer, below bigint,
    chans bigint[], snap bigint, q tsquery, froms bigint[], not_froms bigint[],
    since timestamptz, until timestamptz, xq tsquery)
RETURNS bigint[] LANGUAGE plpgsql
SET random_page_cost = 1.1
SET enable_seqscan = off SET enable_indexscan = on SET enable_bitmapscan = on SET enable_sort = on
AS $$
DECLARE
    sql constant text :=
        'SELECT array_agg(id) FROM (SELECT s.id FROM message_search s WHERE %s AND s.id < $9 ORDER BY s.id DESC LIMIT $10) x';
    got bigint[];
    more bigint[];
    floor bigint;
BEGIN
    IF k <= 0 THEN
        RETURN '{}';
    END IF;
    below := least(below, snap + 1);
    IF walk THEN
        floor := below - 100000;
        PERFORM set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true);
        EXECUTE format(sql, cond || ' AND s.id > $15') INTO got
            USING chans, snap, q, froms, not_froms, since, until, NULL::bigint, below, k, NULL::bigint, NULL::tsquery,
                  NULL::timestamptz, xq, floor;
        got := coalesce(got, '{}');
        IF cardinality(got) >= k OR floor <= 0 THEN
            RETURN got;
        END IF;
        below := floor + 1;
        k := k - cardinality(got);
    END IF;
    PERFORM set_config('enable_indexscan', 'off', true), set_config('enable_bitmapscan', 'on', true),
            set_config('enable_sort', 'on', true);
    EXECUTE format(sql, cond) INTO more
        USING chans, snap, q, froms, not_froms, since, until, NULL::bigint, below, k, NULL::bigint, NULL::tsquery,
              NULL::timestamptz, xq;
    RETURN coalesce(got, '{}') || coalesce(more, '{}');
END
$$;

-- One page of search results for p_user, as a JSON document:
--   {"count": matches counted up to 1001, "snapshot": largest id considered, "ref": the recency
--    reference (ms), "min": the oldest ranked candidate (relevance), "more": another page exists,
--    "hits": [{"id", "ch", "seq", "ts", "user", "name", "display", "body", "hl", "phase", "key"}]}
--
-- Visibility: only channels p_user is a member of now (narrowed by in:/-in:, channel name keys)
-- are ever read, in every statement below.
--
-- Plans (anchors A2). Every fetch is "the newest k matches" (k: the page, or the 300 ranking
-- candidates), done one of two ways (chatd_search_newest): through the indexes' bitmaps, then
-- a sort — cost grows with the number of matches, ~1.5 µs each — or walking back from the newest
-- message — cost grows with how far back the k-th match is, ~0.3 µs a message. The planner alone
-- walks whenever a LIMIT makes it look cheap, which for a rare word whose matches are all old
-- reads the whole table (255 ms at 1M). Here:
-- 1. a word in over 10 % of messages (the planner's statistics know those) would cost tens of
--    milliseconds as a bitmap; the newest 20,000 messages the filters keep are looked at
--    instead (~6 ms): k matches there, and the walk is short; more than 1000, and so is the
--    count; dense enough, and counting by walking is bounded too;
-- 2. few expected (below): one pass through the bitmaps counts them and keeps the newest k;
-- 3. otherwise a capped count through the bitmaps (LIMIT 1001, never a walk: ~1-10 ms); up to
--    1000 matches: bitmaps and sort; more: a walk, bounded to 100,000 messages, the rest
--    through the bitmaps.
--
-- Orders: newest first (keyset on id); relevance (the default): the newest 300 matches (or all
-- of them, if fewer) ranked by ts_rank_cd — cover density, so words close together beat words
-- far apart — of the query as typed (a message matching only by substring or prefix ranks as
-- 0), times a recency factor from 1.5 (now) falling to 0.5 (long ago; 1.0 after 30 days),
-- keyset on (key, id); then, phase 2, the older matches newest first.
CREATE FUNCTION chatd_search_page(
    p_user bigint,
    p_terms text[], p_modes integer[], p_groups integer[],
    p_from text[], p_not_from text[], p_in text[], p_not_in text[],
    p_since timestamptz, p_until timestamptz,
    p_newest boolean, p_snapshot bigint, p_ref timestamptz,
    p_phase integer, p_after_key bigint, p_after_id bigint, p_limit integer)
RETURNS jsonb LANGUAGE plpgsql  -- VOLATILE only because it runs EXPLAIN and set_config; it writes nothing
-- jit off: compiling one of these plans costs more than running it. random_page_cost 1.1: the
-- index is read from memory or SSD, and at 4 a channel's own index looked dearer than reading
-- 40 times as many rows in id order. The scan settings are changed inside (set_config, local)
-- and restored when the function returns.
SET jit = off SET max_parallel_workers_per_gather = 0 SET random_page_cost = 1.1
SET enable_seqscan = off SET enable_indexscan = on SET enable_bitmapscan = on SET enable_sort = on
AS $$
DECLARE
    cap constant integer := 1000;       -- matches counted up to
    candidates constant integer := 300; -- newest matches ranked by relevance (Synapse: 500)
    recent constant integer := 20000;   -- newest messages looked at for a very common word
    chans bigint[];
    froms bigint[];
    not_froms bigint[];
    q tsquery;
    rq tsquery;
    xq tsquery;
    snap bigint;
    ref timestamptz := coalesce(p_ref, now());
    cond text := 's.channel_id = ANY($1)';
    filt text;
    total float8 := greatest((SELECT reltuples FROM pg_class WHERE oid = 'message_search'::regclass), 1);
    plan jsonb;
    est float8;
    dense float8;
    common boolean := false;
    walk boolean := false;
    scanned integer := 0;
    m integer := 0;
    below_cursor integer := 0;
    n integer;
    k integer;
    phase integer := coalesce(p_phase, 1);
    after_id bigint := coalesce(p_after_id, 9223372036854775807);
    -- below this id: the cursor's (newest), or also below the ranked candidates (relevance, phase 2)
    bound bigint := CASE WHEN NOT p_newest AND phase = 2 THEN least(after_id, p_after_key) ELSE after_id END;
    min_cand bigint;
    cand bigint[];
    pre bigint[];  -- the newest k, when the count's pass found them too
    ids bigint[] := '{}';
    keys bigint[] := '{}';
    phases integer[] := '{}';
    got bigint[];
    got_keys bigint[];
    more boolean := false;
    words text[];  -- what to highlight: the query's lexemes…
    subs text[];   -- …and the terms that also matched as substrings
    empty constant jsonb := '{"count": 0, "more": false, "hits": []}';
BEGIN
    PERFORM chatd_search_learn_queued();  -- the words of the newest messages, for substrings
    SELECT array_agg(m.channel_id) INTO chans
    FROM channel_members m JOIN channels c ON c.id = m.channel_id
    WHERE m.user_id = p_user
      AND (p_in IS NULL OR c.name_key = ANY(p_in))
      AND (p_not_in IS NULL OR c.name_key <> ALL(p_not_in));
    IF cardinality(chans) = 1 THEN
        -- one channel: an equality with the id written out (an integer from the database), so the
        -- planner sees its size and the (channel_id, id) index can walk it in id order
        cond := format('s.channel_id = %s', chans[1]);
    END IF;
    IF p_from IS NOT NULL THEN
        SELECT coalesce(array_agg(u.id), '{}') INTO froms FROM users u WHERE u.username_key = ANY(p_from);
        cond := cond || CASE WHEN cardinality(froms) = 1 THEN format(' AND s.user_id = %s', froms[1])
                             ELSE ' AND s.user_id = ANY($4)' END;
    END IF;
    IF p_not_from IS NOT NULL THEN
        SELECT coalesce(array_agg(u.id), '{}') INTO not_froms FROM users u WHERE u.username_key = ANY(p_not_from);
        cond := cond || ' AND s.user_id <> ALL($5)';
    END IF;
    q := chatd_search_query(p_terms, p_modes, p_groups, 'match');
    rq := chatd_search_query(p_terms, p_modes, p_groups, 'rank');
    xq := chatd_search_query(p_terms, p_modes, p_groups, 'exclude');
    snap := coalesce(p_snapshot, (SELECT max(id) FROM message_search));
    -- Nothing to narrow by (only punctuation typed): no results rather than everything.
    IF chans IS NULL OR snap IS NULL OR froms = '{}'
       OR (q IS NULL AND xq IS NULL AND p_from IS NULL AND p_not_from IS NULL AND p_in IS NULL
           AND p_not_in IS NULL AND p_since IS NULL AND p_until IS NULL) THEN
        RETURN empty;
    END IF;
    IF p_since IS NOT NULL THEN
        cond := cond || ' AND s.created_at >= $6';
    END IF;
    IF p_until IS NOT NULL THEN
        cond := cond || ' AND s.created_at < $7';
    END IF;
    IF p_snapshot IS NOT NULL THEN  -- (on a first page it holds anyway)
        cond := cond || ' AND s.id <= $2';
    END IF;
    IF xq IS NOT NULL THEN  -- a filter, not an index condition: the index would read every excluded word
        cond := cond || ' AND NOT s.tsv @@ $14';
    END IF;
    filt := cond;
    IF q IS NOT NULL THEN
        cond := cond || ' AND s.tsv @@ $3';
    END IF;
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM message_search s WHERE ' || cond
        INTO plan USING chans, snap, q, froms, not_froms, p_since, p_until, NULL::bigint, NULL::bigint, NULL::integer,
                        NULL::bigint, NULL::tsquery, NULL::timestamptz, xq;
    est := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
    -- Walking for k costs k / density messages, each checked against q (the bigger q, the dearer);
    -- the bitmaps cost every match: the walk is cheaper when the matches number more than
    -- sqrt(k × messages × walk-to-bitmap cost ratio) — twice that, as the estimate may be high.
    dense := 2 * sqrt(total * (0.15 + 0.015 * coalesce(numnode(q), 0)));
    k := CASE WHEN p_newest OR phase = 2 THEN p_limit + 1 ELSE candidates END;

    -- 1. A very common word: look at the newest messages rather than at its bitmap.
    IF rq IS NOT NULL THEN
        EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM message_search s WHERE s.tsv @@ $1' INTO plan USING rq;
        common := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8 > 0.1 * total;
    END IF;
    IF common THEN
        -- The newest `recent` messages the filters keep (through the channel's or the author's
        -- index when there is one of either), among the newest 5 × `recent` ids at most.
        PERFORM set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true);
        EXECUTE 'SELECT count(*)::integer, (count(*) FILTER (WHERE s.tsv @@ $3))::integer, '
            '(count(*) FILTER (WHERE s.tsv @@ $3 AND s.id < $9))::integer FROM (SELECT s.id, s.tsv '
            'FROM message_search s WHERE ' || filt || ' AND s.id > $15 ORDER BY s.id DESC LIMIT ' || recent || ') s'
            INTO scanned, m, below_cursor USING chans, snap, q, froms, not_froms, p_since, p_until, NULL::bigint,
                         bound, NULL::integer, NULL::bigint, NULL::tsquery, NULL::timestamptz, xq,
                         snap - 5 * recent;
        PERFORM set_config('enable_bitmapscan', 'on', true), set_config('enable_sort', 'on', true);
    END IF;
    -- 2. The count (capped), and the newest k.
    walk := common AND below_cursor >= k;
    IF common AND (snap <= 5 * recent OR m > cap) THEN  -- all there is, or more than enough
        n := least(m, cap + 1);
    ELSIF common AND m > 0 AND (cap + 1.0) * scanned / m <= 5 * recent THEN
        -- dense: counting up to 1001 by walking is bounded, and cheaper than the word's bitmap
        PERFORM set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true);
        EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM message_search s WHERE ' || cond
            || ' ORDER BY s.id DESC LIMIT ' || (cap + 1) || ') x'
            INTO n USING chans, snap, q, froms, not_froms, p_since, p_until, NULL::bigint, NULL::bigint,
                         NULL::integer, NULL::bigint, NULL::tsquery, NULL::timestamptz, xq;
        PERFORM set_config('enable_bitmapscan', 'on', true), set_config('enable_sort', 'on', true);
    ELSIF rq IS NOT NULL AND NOT common AND est <= dense * sqrt(k) THEN
        -- Few expected: one pass through the bitmaps counts them and keeps the newest k.
        PERFORM set_config('enable_indexscan', 'off', true);
        EXECUTE 'SELECT count(*)::integer, (array_agg(s.id ORDER BY s.id DESC) FILTER (WHERE s.id < $9))[1:$10] '
            'FROM message_search s WHERE ' || cond
            INTO n, pre USING chans, snap, q, froms, not_froms, p_since, p_until, NULL::bigint,
                              CASE WHEN p_newest OR phase = 2 THEN bound ELSE snap + 1 END, k, NULL::bigint,
                              NULL::tsquery, NULL::timestamptz, xq;
        PERFORM set_config('enable_indexscan', 'on', true);
        pre := coalesce(pre, '{}');
    ELSE  -- through the bitmaps when there are words to look up (a walk is the trap)
        PERFORM set_config('enable_indexscan', (rq IS NULL)::text, true);
        EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM message_search s WHERE ' || cond || ' LIMIT ' || (cap + 1) || ') x'
            INTO n USING chans, snap, q, froms, not_froms, p_since, p_until, NULL::bigint, NULL::bigint, NULL::integer,
                         NULL::bigint, NULL::tsquery, NULL::timestamptz, xq;
        PERFORM set_config('enable_indexscan', 'on', true);
        -- Without words (only from:, in:, dates) the planner picks from the channel and author
        -- indexes; with words, walk only where the planner expects the matches dense enough.
        walk := walk OR (n > cap AND (rq IS NULL OR est > dense * sqrt(k)));
    END IF;
    IF n = 0 THEN
        RETURN empty;
    END IF;

    -- 3. The page.
    IF p_newest OR phase = 2 THEN  -- phase 2 of relevance: older than the ranked ones (p_after_key)
        ids := coalesce(pre, chatd_search_newest(cond, walk, k, bound, chans, snap, q, froms, not_froms, p_since,
                                                 p_until, xq));
        keys := array_fill(CASE WHEN p_newest THEN 0 ELSE p_after_key END, ARRAY[cardinality(ids)]);
        phases := array_fill(CASE WHEN p_newest THEN 1 ELSE 2 END, ARRAY[cardinality(ids)]);
        min_cand := p_after_key;
    ELSE
        cand := coalesce(pre, chatd_search_newest(cond, walk, k, snap + 1, chans, snap, q, froms, not_froms, p_since,
                                                  p_until, xq));
        min_cand := (SELECT min(x) FROM unnest(cand) AS x);
        SELECT array_agg(id ORDER BY key DESC, id DESC), array_agg(key ORDER BY key DESC, id DESC) INTO got, got_keys
        FROM (SELECT r.id, r.key FROM (
                  SELECT t.id, (1000000 * (coalesce(ts_rank_cd(t.tsv, rq, 1), 0) + 0.001)
                                * (0.5 + 1.0 / (1 + greatest(extract(epoch FROM ref - t.created_at), 0)
                                                / 2592000.0)))::bigint AS key
                  FROM message_search t WHERE t.id = ANY(cand)) r
              WHERE p_after_key IS NULL OR (r.key, r.id) < (p_after_key, after_id)
              ORDER BY r.key DESC, r.id DESC LIMIT p_limit + 1) x;
        ids := coalesce(got, '{}');
        keys := coalesce(got_keys, '{}');
        phases := array_fill(1, ARRAY[cardinality(ids)]);
        IF cardinality(ids) <= p_limit AND n > cardinality(cand) THEN  -- the ranked ones end: older, newest first
            got := chatd_search_newest(cond, n > cap AND (rq IS NULL OR est > dense * sqrt(p_limit + 1)),
                                       p_limit + 1 - cardinality(ids), min_cand,
                                       chans, snap, q, froms, not_froms, p_since, p_until, xq);
            ids := ids || got;
            keys := keys || array_fill(min_cand, ARRAY[cardinality(got)]);
            phases := phases || array_fill(2, ARRAY[cardinality(got)]);
        END IF;
    END IF;
    SELECT coalesce(array_agg(DISTINCT w) FILTER (WHERE w IS NOT NULL), '{}') INTO words
    FROM unnest(p_terms, p_modes) AS t(term, mode), unnest((chatd_search_lexemes(term, true)).lex) AS w
    WHERE mode & 12 = 0;
    SELECT coalesce(array_agg(DISTINCT f), '{}') INTO subs
    FROM unnest(p_terms, p_modes) AS t(term, mode), chatd_search_fold(term) AS f
    WHERE mode & 14 = 0 AND char_length(f) >= 3 AND f <> ALL(words)
      AND chatd_search_estimate(chatd_search_term(term, false, false)) <= 1000;
    IF cardinality(ids) > p_limit THEN
        more := true;
        ids := ids[1:p_limit];
        keys := keys[1:p_limit];
        phases := phases[1:p_limit];
    END IF;
    RETURN jsonb_build_object(
        'count', n, 'more', more, 'snapshot', snap, 'min', min_cand,
        'ref', (extract(epoch FROM ref) * 1000)::bigint,
        'hits', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'id', m.id, 'ch', m.channel_id, 'seq', m.seq,
                    'ts', (extract(epoch FROM m.created_at) * 1000)::bigint,
                    'user', m.user_id, 'name', u.username, 'display', u.display_name, 'body', m.body,
                    'hl', chatd_search_highlights(m.body, words, subs),
                    'phase', x.phase, 'key', x.key) ORDER BY x.o), '[]')
                 FROM unnest(ids, keys, phases) WITH ORDINALITY AS x(id, key, phase, o)
                 JOIN messages m ON m.id = x.id JOIN users u ON u.id = m.user_id));
END
$$;

-- Words of the lexicon that look like `t` (trigram similarity) and occur in a message p_user can
-- read now: the spelling suggestions of an empty result, best first. At most 8 candidates are
-- checked, each by one index probe (EXECUTE: planned with the word known).
CREATE FUNCTION chatd_search_similar(p_user bigint, t text, p_limit integer) RETURNS text[]
LANGUAGE plpgsql SET jit = off SET enable_seqscan = off AS $$
DECLARE
    chans bigint[] := ARRAY(SELECT channel_id FROM channel_members WHERE user_id = p_user);
    f text := chatd_search_fold(t);
    found text[] := '{}';
    w text;
    seen boolean;
BEGIN
    IF f IS NULL OR char_length(f) < 3 THEN
        RETURN found;
    END IF;
    PERFORM chatd_search_learn_queued();
    FOR w IN EXECUTE 'SELECT word FROM search_words WHERE word % $1 AND word <> $1 '
                     'ORDER BY similarity(word, $1) DESC, word LIMIT 8' USING f LOOP
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM message_search s WHERE s.tsv @@ $1 AND s.channel_id = ANY($2))'
            INTO seen USING chatd_search_quote(w)::tsquery, chans;
        IF seen THEN
            found := found || w;
            EXIT WHEN cardinality(found) >= p_limit;
        END IF;
    END LOOP;
    RETURN found;
END
$$;
