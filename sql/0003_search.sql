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
--   spelling suggestions come from here (checked against messages the reader can see).
--
-- Existing messages are indexed after this file commits, in batches of their own
-- (chatd.store.search.backfill, run by `chatd migrate` and at start-up): this file only records
-- where the backfill starts.

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

CREATE TABLE search_words (word text PRIMARY KEY);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

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

-- The triggers: statement-level, so a batch of the hub is indexed by one INSERT.
CREATE FUNCTION chatd_search_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    vectors tsvector[];
BEGIN
    WITH ins AS (
        INSERT INTO message_search (id, channel_id, user_id, created_at, tsv)
        SELECT n.id, n.channel_id, n.user_id, n.created_at, chatd_search_vector(n.body) || chatd_search_attachments(n.id)
        FROM new_rows n
        RETURNING tsv
    )
    SELECT array_agg(tsv) INTO vectors FROM ins;
    PERFORM chatd_search_learn(vectors);
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

-- One term as a tsquery: its lexemes as a phrase (a token of parts, a CJK run as chained
-- bigrams, a quoted phrase); `prefix`: the last one matches as a prefix. NULL: nothing to match.
CREATE FUNCTION chatd_search_term(t text, prefix boolean) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    r record;
    buf text := '';
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
        buf := buf || chatd_search_quote(r.lex[i]);
        -- a lone CJK character: any bigram it starts (or a run it ends, indexed alone)
        IF (prefix AND i = n) OR (r.kind[i] = 'c' AND char_length(r.lex[i]) = 1) THEN
            buf := buf || ':*';
        END IF;
        prev := r.pos[i];
    END LOOP;
    RETURN CASE WHEN buf = '' THEN NULL ELSE buf::tsquery END;
END
$$;

-- The words of the lexicon that contain the folded term (3+ characters): the 64 shortest.
CREATE FUNCTION chatd_search_expand(t text) RETURNS tsquery LANGUAGE sql STABLE STRICT AS $$
    SELECT string_agg(chatd_search_quote(w.word), ' | ')::tsquery
    FROM (SELECT chatd_search_fold(t) AS f) x,
         LATERAL (SELECT word FROM search_words
                  WHERE char_length(x.f) >= 3
                    AND word LIKE '%' || replace(replace(replace(x.f, '\', '\\'), '%', '\%'), '_', '\_') || '%'
                  ORDER BY char_length(word), word LIMIT 64) w
$$;

-- The terms of a query as one tsquery. p_modes: 1 prefix, 2 exact (a quoted phrase: no
-- substring matches), 4 excluded, 8 a marker lexeme taken as it is (' has:link'). Terms of one
-- group are alternatives (OR); groups must all match. `expand`: words of 3+ characters also
-- match the lexicon words containing them. `positive`: leave excluded terms out (ranking).
CREATE FUNCTION chatd_search_query(p_terms text[], p_modes integer[], p_groups integer[],
                                   expand boolean, positive boolean DEFAULT false)
RETURNS tsquery LANGUAGE plpgsql STABLE AS $$
DECLARE
    groups tsquery[] := '{}';
    keys integer[] := '{}';
    q tsquery;
    x tsquery;
    result tsquery;
    i integer;
    g integer;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_terms), 0) LOOP
        CONTINUE WHEN positive AND p_modes[i] & 4 <> 0;
        IF p_modes[i] & 8 <> 0 THEN
            q := chatd_search_quote(p_terms[i])::tsquery;
        ELSE
            q := chatd_search_term(p_terms[i], p_modes[i] & 1 <> 0);
            IF expand AND p_modes[i] & 3 = 0 THEN
                x := chatd_search_expand(p_terms[i]);
                q := CASE WHEN q IS NULL THEN x WHEN x IS NULL THEN q ELSE q || x END;
            END IF;
        END IF;
        CONTINUE WHEN q IS NULL;
        IF p_modes[i] & 4 <> 0 THEN
            q := !! q;
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

-- What to highlight: the folded forms of the positive, non-marker terms and their lexemes.
CREATE FUNCTION chatd_search_needles(p_terms text[], p_modes integer[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT n) FILTER (WHERE n <> ''), '{}')
    FROM unnest(p_terms, p_modes) AS t(term, mode),
         LATERAL (SELECT chatd_search_fold(term) AS n
                  UNION ALL SELECT unnest((chatd_search_lexemes(term, true)).lex)) x
    WHERE mode & 12 = 0 AND n IS NOT NULL
$$;

-- Highlights of a body: [start, length, start, length…] in characters (code points), sorted.
-- Each token of the body that contains a needle once folded: the needle's occurrences when
-- folding kept the token's length (a plain word, most accented ones), else the whole token.
CREATE FUNCTION chatd_search_highlights(body text, needles text[]) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    out integer[] := '{}';
    m text[];
    at integer := 0;
    tok text;
    folded text;
    needle text;
    i integer;
    j integer;
BEGIN
    IF cardinality(needles) = 0 THEN
        RETURN out;
    END IF;
    FOR m IN SELECT regexp_matches(body,
        '([\u0000-\u0020\u007F-\u00A0!"(),;<>?\[\]{}|`\u00A1\u00A7\u00AB\u00B6\u00BB\u00BF\u037E\u055A-\u055F\u0589'
        '\u05C0\u05C3\u05C6\u060C\u061B\u061F\u066A-\u066D\u06D4\u0964\u0965\u1361-\u1368\u1680\u2000-\u200B'
        '\u2012-\u2018\u201A-\u2027\u2028-\u205F\u3000-\u3004\u3008-\u3020\u3030\u30FB]+)|([^\u0000-\u0020'
        '\u007F-\u00A0!"(),;<>?\[\]{}|`\u00A1\u00A7\u00AB\u00B6\u00BB\u00BF\u037E\u055A-\u055F\u0589\u05C0\u05C3'
        '\u05C6\u060C\u061B\u061F\u066A-\u066D\u06D4\u0964\u0965\u1361-\u1368\u1680\u2000-\u200B\u2012-\u2018'
        '\u201A-\u2027\u2028-\u205F\u3000-\u3004\u3008-\u3020\u3030\u30FB]+)', 'g')
    LOOP
        IF m[2] IS NOT NULL THEN
            tok := m[2];
            folded := chatd_search_lower(chatd_search_prepare(tok));
            FOREACH needle IN ARRAY needles LOOP
                CONTINUE WHEN strpos(folded, needle) = 0;
                IF char_length(folded) <> char_length(tok) THEN
                    out := out || ARRAY[at, char_length(tok)];
                    EXIT;
                END IF;
                i := 0;
                LOOP
                    j := strpos(substr(folded, i + 1), needle);
                    EXIT WHEN j = 0;
                    out := out || ARRAY[at + i + j - 1, char_length(needle)];
                    i := i + j;
                END LOOP;
            END LOOP;
            at := at + char_length(tok);
        ELSE
            at := at + char_length(m[1]);
        END IF;
    END LOOP;
    RETURN out;
END
$$;

-- The first message id at or after `ts` (ids grow with time, give or take the clock of
-- concurrent inserts: callers widen the bound by a minute and keep the exact time condition).
CREATE FUNCTION chatd_search_id_at(ts timestamptz) RETURNS bigint LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    lo bigint;
    hi bigint;
    mid bigint;
    at timestamptz;
BEGIN
    SELECT min(id), max(id) + 1 INTO lo, hi FROM message_search;
    IF lo IS NULL THEN
        RETURN 1;
    END IF;
    WHILE lo < hi LOOP  -- the first id whose message is at or after ts; ~20 index probes at 1M
        mid := lo + (hi - lo) / 2;
        SELECT s.id, s.created_at INTO mid, at FROM message_search s WHERE s.id >= mid ORDER BY s.id LIMIT 1;
        IF at >= ts THEN
            hi := mid;
        ELSE
            lo := mid + 1;
        END IF;
    END LOOP;
    RETURN lo;
END
$$;

-- One page of search results for p_user, as a JSON document:
--   {"count": matches counted up to 1001, "snapshot": largest id considered, "ref": the recency
--    reference (ms), "min": the oldest ranked candidate (relevance), "more": another page exists,
--    "hits": [{"id", "ch", "seq", "ts", "user", "name", "display", "body", "hl", "phase", "key"}]}
--
-- Visibility: only channels p_user is a member of now (narrowed by in:/-in:, channel name keys)
-- are ever read, in every statement below. Plan choice (anchors A2): a capped count of the
-- matches first (LIMIT 1001: ~2 ms whatever the word). Up to 1000 matches: read them all
-- through the word index and sort them (a rare word, or one whose matches are all old, costs
-- a millisecond instead of a walk through all history). More: walk back from the newest
-- message, which finds a page of a common word after a few hundred rows.
--
-- Orders: newest first (keyset on id); relevance (the default): the newest 1000 matches (or all
-- of them, if fewer) ranked by ts_rank_cd — cover density, so words close together beat words
-- far apart — times a recency factor from 1.5 (now) falling to 0.5 (long ago; 1.0 after 30
-- days), keyset on (key, id); then, phase 2, the older matches newest first.
CREATE FUNCTION chatd_search_page(
    p_user bigint,
    p_terms text[], p_modes integer[], p_groups integer[],
    p_from text[], p_not_from text[], p_in text[], p_not_in text[],
    p_since timestamptz, p_until timestamptz,
    p_newest boolean, p_snapshot bigint, p_ref timestamptz,
    p_phase integer, p_after_key bigint, p_after_id bigint, p_limit integer)
RETURNS jsonb LANGUAGE plpgsql STABLE
-- jit off: compiling one of these plans costs more than running it. Bitmap and sort settings
-- are changed inside (SET LOCAL) and restored when the function returns.
SET jit = off SET enable_seqscan = off SET enable_bitmapscan = on SET enable_sort = on
AS $$
DECLARE
    cap constant integer := 1000;
    chans bigint[];
    froms bigint[];
    not_froms bigint[];
    q tsquery;
    rq tsquery;
    snap bigint;
    ref timestamptz := coalesce(p_ref, now());
    lo bigint := 0;
    cond text := 's.channel_id = ANY($1) AND s.id <= $2 AND s.id >= $8';
    n integer;
    phase integer := coalesce(p_phase, 1);
    after_id bigint := coalesce(p_after_id, 9223372036854775807);
    min_cand bigint;
    ids bigint[] := '{}';
    keys bigint[] := '{}';
    phases integer[] := '{}';
    got bigint[];
    got_keys bigint[];
    more boolean := false;
    needles text[];
    score constant text :=
        '(1000000 * (coalesce(ts_rank_cd(c.tsv, $12, 1), 0) + 0.1 * coalesce(ts_rank_cd(c.tsv, $3, 1), 0) + 0.001)'
        ' * (0.5 + 1.0 / (1 + greatest(extract(epoch FROM $13 - c.created_at), 0) / 2592000.0)))::bigint';
    empty constant jsonb := '{"count": 0, "more": false, "hits": []}';
BEGIN
    SELECT array_agg(m.channel_id) INTO chans
    FROM channel_members m JOIN channels c ON c.id = m.channel_id
    WHERE m.user_id = p_user
      AND (p_in IS NULL OR c.name_key = ANY(p_in))
      AND (p_not_in IS NULL OR c.name_key <> ALL(p_not_in));
    IF p_from IS NOT NULL THEN
        SELECT coalesce(array_agg(u.id), '{}') INTO froms FROM users u WHERE u.username_key = ANY(p_from);
        cond := cond || ' AND s.user_id = ANY($4)';
    END IF;
    IF p_not_from IS NOT NULL THEN
        SELECT coalesce(array_agg(u.id), '{}') INTO not_froms FROM users u WHERE u.username_key = ANY(p_not_from);
        cond := cond || ' AND s.user_id <> ALL($5)';
    END IF;
    q := chatd_search_query(p_terms, p_modes, p_groups, true);
    IF q IS NOT NULL THEN
        cond := cond || ' AND s.tsv @@ $3';
        rq := chatd_search_query(p_terms, p_modes, p_groups, false, true);
    END IF;
    snap := coalesce(p_snapshot, (SELECT max(id) FROM message_search));
    -- Nothing to narrow by (only punctuation typed): no results rather than everything.
    IF chans IS NULL OR snap IS NULL OR froms = '{}'
       OR (q IS NULL AND p_from IS NULL AND p_not_from IS NULL AND p_in IS NULL AND p_not_in IS NULL
           AND p_since IS NULL AND p_until IS NULL) THEN
        RETURN empty;
    END IF;
    IF p_since IS NOT NULL THEN
        lo := chatd_search_id_at(p_since - interval '1 minute');
        cond := cond || ' AND s.created_at >= $6';
    END IF;
    IF p_until IS NOT NULL THEN
        snap := least(snap, chatd_search_id_at(p_until + interval '1 minute'));
        cond := cond || ' AND s.created_at < $7';
    END IF;

    EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM message_search s WHERE ' || cond || ' LIMIT ' || (cap + 1) || ') x'
        INTO n USING chans, snap, q, froms, not_froms, p_since, p_until, lo;
    IF n = 0 THEN
        RETURN empty;
    END IF;

    IF p_newest OR phase = 2 THEN
        IF n > cap THEN  -- many: walk back from the newest
            PERFORM set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true);
            EXECUTE 'SELECT array_agg(id) FROM (SELECT s.id FROM message_search s WHERE ' || cond
                || ' AND s.id < $9 ORDER BY s.id DESC LIMIT $10) x'
                INTO got USING chans, snap, q, froms, not_froms, p_since, p_until, lo,
                               least(after_id, coalesce(p_after_key, after_id)), p_limit + 1;
        ELSE  -- few: all of them through the index, then sorted (OFFSET 0 keeps the plan apart)
            EXECUTE 'SELECT array_agg(id) FROM (SELECT id FROM (SELECT s.id FROM message_search s WHERE ' || cond
                || ' OFFSET 0) a WHERE id < $9 ORDER BY id DESC LIMIT $10) x'
                INTO got USING chans, snap, q, froms, not_froms, p_since, p_until, lo, after_id, p_limit + 1;
        END IF;
        ids := coalesce(got, '{}');
        keys := array_fill(CASE WHEN p_newest THEN 0 ELSE p_after_key END, ARRAY[cardinality(ids)]);
        phases := array_fill(CASE WHEN p_newest THEN 1 ELSE 2 END, ARRAY[cardinality(ids)]);
        min_cand := p_after_key;
    ELSE
        IF n > cap THEN
            PERFORM set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true);
        END IF;
        EXECUTE 'WITH c AS MATERIALIZED (SELECT s.id, s.tsv, s.created_at FROM message_search s WHERE ' || cond
            || CASE WHEN n > cap THEN ' ORDER BY s.id DESC LIMIT ' || cap ELSE ' OFFSET 0' END
            || '), r AS (SELECT c.id, ' || score || ' AS k FROM c)'
            || ' SELECT (SELECT min(id) FROM c), array_agg(id), array_agg(k) FROM (SELECT id, k FROM r'
            || ' WHERE $11::bigint IS NULL OR (k, id) < ($11, $9) ORDER BY k DESC, id DESC LIMIT $10) x'
            INTO min_cand, got, got_keys
            USING chans, snap, q, froms, not_froms, p_since, p_until, lo, after_id, p_limit + 1,
                  p_after_key, rq, ref;
        ids := coalesce(got, '{}');
        keys := coalesce(got_keys, '{}');
        phases := array_fill(1, ARRAY[cardinality(ids)]);
        IF cardinality(ids) <= p_limit AND n > cap THEN  -- the ranked ones end here: go on, older first
            PERFORM set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true);
            EXECUTE 'SELECT array_agg(id) FROM (SELECT s.id FROM message_search s WHERE ' || cond
                || ' AND s.id < $9 ORDER BY s.id DESC LIMIT $10) x'
                INTO got USING chans, snap, q, froms, not_froms, p_since, p_until, lo, min_cand,
                               p_limit + 1 - cardinality(ids);
            ids := ids || coalesce(got, '{}');
            keys := keys || array_fill(min_cand, ARRAY[coalesce(cardinality(got), 0)]);
            phases := phases || array_fill(2, ARRAY[coalesce(cardinality(got), 0)]);
        END IF;
    END IF;
    needles := chatd_search_needles(p_terms, p_modes);
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
                    'hl', chatd_search_highlights(m.body, needles),
                    'phase', x.phase, 'key', x.key) ORDER BY x.o), '[]')
                 FROM unnest(ids, keys, phases) WITH ORDINALITY AS x(id, key, phase, o)
                 JOIN messages m ON m.id = x.id JOIN users u ON u.id = m.user_id));
END
$$;

-- Words of the lexicon that look like `t` (trigram similarity) and occur in a message p_user can
-- read now: the spelling suggestions of an empty result, best first.
CREATE FUNCTION chatd_search_similar(p_user bigint, t text, p_limit integer) RETURNS text[]
LANGUAGE sql STABLE SET jit = off AS $$
    SELECT coalesce(array_agg(w.word ORDER BY w.sim DESC, w.word), '{}')
    FROM (SELECT word, similarity(word, f) AS sim
          FROM search_words, (SELECT chatd_search_fold(t) AS f) x
          WHERE word % f AND word <> f
          ORDER BY sim DESC, word LIMIT 8) w
    WHERE EXISTS (SELECT 1 FROM message_search s
                  WHERE s.tsv @@ chatd_search_quote(w.word)::tsquery
                    AND s.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = p_user))
    LIMIT p_limit
$$;
