-- Search finds files (issue 11 × issue 12): `has:file`, `has:image`, and the words of file names.
--
-- 0003 left chatd_search_attachments empty (the attachments table came with 0004). Here it gives
-- a message's file names, tokenized like message text, and the marker lexemes ' has:file' and
-- ' has:image' (the leading space: no text can produce them; chatd/searchlang.py asks for them).
-- A trigger on attachments keeps the index current when files are attached to a message (in the
-- send's transaction, after its insert was indexed) or released from it (a deleted message):
-- whatever changes attachments, the affected messages are re-indexed at the end of the statement.

CREATE OR REPLACE FUNCTION chatd_search_attachments(p_message bigint) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(chatd_search_vector(string_agg(a.name, ' ' ORDER BY a.position)), '')
           || CASE WHEN count(*) > 0 THEN ''' has:file'''::tsvector ELSE '' END
           || CASE WHEN bool_or(b.kind = 'image') THEN ''' has:image'''::tsvector ELSE '' END
    FROM attachments a JOIN file_blobs b ON b.sha256 = a.sha256
    WHERE a.message_id = p_message
$$;

CREATE FUNCTION chatd_search_attachments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT message_id) INTO ids FROM new_rows WHERE message_id IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT message_id) INTO ids FROM old_rows WHERE message_id IS NOT NULL;
    ELSE
        SELECT array_agg(DISTINCT x) INTO ids FROM (
            SELECT message_id FROM new_rows UNION SELECT message_id FROM old_rows) AS c(x)
        WHERE x IS NOT NULL;
    END IF;
    IF ids IS NOT NULL THEN
        PERFORM chatd_search_refresh(ids);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER attachments_search_insert AFTER INSERT ON attachments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chatd_search_attachments_changed();
CREATE TRIGGER attachments_search_update AFTER UPDATE ON attachments
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatd_search_attachments_changed();
CREATE TRIGGER attachments_search_delete AFTER DELETE ON attachments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION chatd_search_attachments_changed();

-- Messages stored with files before this migration: index their files now (a homelab's few).
SELECT chatd_search_refresh(array(SELECT DISTINCT message_id FROM attachments WHERE message_id IS NOT NULL));
