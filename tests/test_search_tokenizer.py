"""What a search finds, sample by sample: each message of the table below is found by each of
its queries, and not by its near misses (which look alike but must not match).

Every sample is stored (through chatd_post_messages, so the triggers index them as a send does)
and each query runs the whole search path: chatd.searchlang, then chatd_search_page.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from chatd import searchlang
from chatd.store import Database
from chatd.store import search as search_store
from chatd.store.messages import post_messages


class Sample(NamedTuple):
    body: str
    finds: tuple[str, ...]
    misses: tuple[str, ...]


SAMPLES = [
    # hostnames, dotted/dashed/underscored identifiers
    Sample("deploy-1307.prod.internal is down",
           ("prod", "internal", "deploy", "1307", "deploy-1307", "1307.prod", "prod.internal",
            "deploy-1307.prod.internal", "prod.int", "1307.prod.int", "PROD"),
           ("prd", "production", "1308", "internals", "prod.external")),
    Sample("see foo.bar.baz_42() for details",
           ("foo", "bar", "baz", "42", "foo.bar", "bar.baz", "baz_42", "foo.bar.baz_42", "foo.bar.baz_42()"),
           ("foobar", "ba", "baz43", "bar.foo")),
    Sample("10.0.3.27 unreachable since noon", ("10.0.3.27", "0.3.27", "27", "unreachable"), ("10.0.3.28", "10.0.4")),
    Sample("IPv6 address fe80::1 on eth0", ("ipv6", "fe80", "fe80::1", "eth0"), ("ipv4", "fe81")),
    Sample("snake_case_name and kebab-case-name",
           ("snake", "case", "name", "kebab", "snake_case_name", "case_name", "kebab-case"),
           ("snakecase", "kebabcase")),
    Sample("version 3.14.159 released", ("3.14", "3.14.159", "159", "released"), ("3.15", "3.14.160")),
    # URLs, paths, e-mail
    Sample("https://git.example.org/proj/issues/99",
           ("git", "example", "example.org", "proj", "issues", "99", "git.example.org", "proj/issues",
            "/proj/issues/99", "https://git.example.org/proj/issues/99", "has:link"),
           ("examples", "isues", "proj/99", "-has:link")),
    Sample("/var/log/syslog is full again", ("var", "log", "syslog", "/var/log/syslog", "log/syslog"),
           ("syslogs", "varlog", "has:link")),
    Sample("C:\\Users\\admin\\notes.txt is gone", ("users", "admin", "notes", "txt", "notes.txt"), ("note.txt", "admins")),
    Sample("mail alice.smith@example.com now",
           ("alice", "smith", "alice.smith@example.com", "example.com", "alice.smith"), ("bob@example.com", "smyth")),
    Sample("see www.example.net/docs", ("www.example.net", "docs", "has:link"), ("example.org",)),
    # tickets, numbers, camelCase
    Sample("PLT-3699 blocks the release", ("PLT-3699", "plt", "3699", "plt 3699", "plt-3699"), ("PLT-3698", "PLT3698")),
    Sample("getUserName returns null", ("getusername", "getUserName", "user", "name", "UserName", "get", "username"),
           ("getUserNames", "usr")),
    Sample("HTTPServer crashed", ("httpserver", "http", "server", "HTTPServer"), ("httpd", "servers")),
    Sample("CamelCaseXMLParser fails", ("camel", "xml", "parser", "XMLParser", "camelcasexmlparser"), ("xmlparsers",)),
    Sample("costs 1,299.99 EUR", ("299.99", "eur", "costs"), ("1299", "299.98")),
    Sample("price: $100 & 20% off", ("100", "$100", "20%", "off"), ("200", "offf")),
    Sample("1st of January", ("1st", "january", "JANUARY"), ("2nd", "janvier")),
    # accents and other Latin letters
    Sample("Le café est fermé", ("cafe", "café", "CAFÉ", "ferme", "fermé", "caf*"), ("cafes", "caff")),
    Sample("Straße und Größe", ("strasse", "straße", "grosse", "Größe"), ("strase", "groesse")),
    Sample("naïve résumé", ("naive", "resume", "résumé", "RÉSUMÉ"), ("resumes", "naiive")),
    Sample("Ångström Øresund Łódź", ("angstrom", "oresund", "lodz", "Łódź"), ("angstroem", "lodzz")),
    Sample("ＦＵＬＬＷＩＤＴＨ text", ("fullwidth", "FULLWIDTH"), ("halfwidth",)),
    Sample("ﬁle ligature", ("file", "ligature"), ("fil3",)),
    # CJK
    Sample("我家在上海东边", ("上海", "东边", "我家", "上海东", "海", "家在上海"), ("上东", "北京", "海上")),
    Sample("サーバーを再起動しました", ("サーバー", "再起動", "再起", "しました"), ("起再", "サバー")),
    Sample("서울에서 만나요", ("서울", "만나요", "서울에서"), ("부산", "울서")),
    # other scripts, right to left
    Sample("Привет мир, сервер упал", ("привет", "ПРИВЕТ", "сервер", '"сервер упал"'), ("сервера", '"упал сервер"')),
    Sample("Ελληνικά: καλημέρα σας", ("ελληνικα", "καλημερα", "ΚΑΛΗΜΈΡΑ", "ελληνικά"), ("καλησπερα",)),
    Sample("שָׁלוֹם עֲלֵיכֶם", ("שלום", "עליכם", "שָׁלוֹם"), ("שלם", "ברוך")),
    Sample("مَرْحَبًا بالعالم", ("مرحبا", "بالعالم", "مَرْحَبًا"), ("سلام",)),
    # emoji
    Sample("deploy 🚀 done", ("🚀", "deploy 🚀"), ("🔥",)),
    Sample("great job 👍🏽", ("👍", "👍🏽", "👍🏿"), ("👎",)),
    Sample("family 👨‍👩‍👧 photo", ("👨‍👩‍👧", "👩", "family"), ("👴",)),
    Sample("❤️ it", ("❤", "❤️"), ("💔",)),
    # mentions, tags, apostrophes, phrases, white space and invisible characters
    Sample("@carol please look", ("@carol", "carol", "please"), ("@dave",)),
    Sample("#general is noisy", ("#general", "general", "noisy"), ("#random",)),
    Sample("don't panic", ("don't", "don", "panic", "DON'T"), ("dont",)),
    Sample("e-mail the x-ray results", ("mail", "e-mail", "x-ray", "ray", '"the x-ray"'), ("xray", '"x-ray the"')),
    Sample('quoted "exact phrase" here', ('"exact phrase"', "exact", "quoted here"), ('"phrase exact"',)),
    Sample("Tab\tseparated\nnew line", ("tab", "separated", '"new line"', "line"), ("tabseparated", '"separated line"')),
    Sample("zero\u200bwidth join", ("zero", "width", '"zero width"'), ("zerowidth",)),
    Sample("soft\u00adhyphen here", ("softhyphen",), ('"soft hyphen"', "softer")),
]

OTHER = "unrelated filler words only"


async def _setup(db: Database) -> tuple[int, int]:
    user = await db.fetchval(
        "t.user", "INSERT INTO users (username, username_key, display_name, password_hash) "
        "VALUES ('carol', 'carol', 'Carol', 'x') RETURNING id",
    )
    ch = await db.fetchval("t.ch", "INSERT INTO channels (name, name_key) VALUES ('table', 'table') RETURNING id")
    await db.execute("t.member", "INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2)", ch, user)
    bodies = [s.body for s in SAMPLES] + [OTHER]
    await post_messages(db, channel_id=ch, users=[user] * len(bodies),
                        cids=[i.to_bytes(16, "big") for i in range(len(bodies))], bodies=bodies)
    return user, ch


async def _found(db: Database, user: int, q: str) -> set[str]:
    query = searchlang.with_mentions_of(searchlang.parse(q), user)
    terms = search_store.Terms([t.text for t in query.terms], [t.mode for t in query.terms],
                               [t.group for t in query.terms])
    page = await search_store.search_page(db, user_id=user, terms=terms, scope=search_store.Scope(),
                                          newest=True, position=None, limit=100)
    return {h.body for h in page.hits}


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.body[:24] for s in SAMPLES])
async def test_each_sample_is_found_by_its_queries_and_not_by_near_misses(db: Database, sample: Sample) -> None:
    user, _ = await _setup(db)
    for q in sample.finds:
        assert sample.body in await _found(db, user, q), f"{q!r} should find {sample.body!r}"
    for q in sample.misses:
        assert sample.body not in await _found(db, user, q), f"{q!r} should not find {sample.body!r}"

