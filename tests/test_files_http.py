"""Uploads and downloads over the real stack (TLS, Hypercorn, Quart): limits, resumable uploads,
who may read a file, how files are served, names (PROTOCOL.md §16)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
import trio

from chatd.config import Config
from tests.helpers.client import Account, connect, register
from tests.helpers.files import (
    TUS,
    RawHTTPS,
    auth,
    declare_only,
    download,
    post_chunked,
    sha256,
    tus_create,
    tus_offset,
    tus_patch,
    upload,
    upload_sync,
)
from tests.helpers.images import png_bytes
from tests.helpers.server import RunningServer, http_request

LIMIT = 4 * 1024 * 1024
CEILING_SECS = 60


@pytest.fixture
def server_config(server_config: Config, request: pytest.FixtureRequest) -> Config:
    """A 4 MiB file limit; tests may override more (``indirect`` parametrization)."""
    return dataclasses.replace(server_config, files_max_bytes=LIMIT, files_reserve_bytes=0,
                               **getattr(request, "param", {}))


async def test_limit_exactly_and_one_byte_over_with_content_length(server: RunningServer) -> None:
    alice = await register(server, "alice")
    with trio.fail_after(CEILING_SECS):
        over = await trio.to_thread.run_sync(declare_only, server.url, alice, LIMIT + 1)
        assert over.status == 413  # answered from Content-Length, with no body byte sent
        assert over.json["error"] == "too_large" and over.json["limit_bytes"] == LIMIT
        assert "4 MB" in over.json["message"]
        data = os.urandom(LIMIT)
        f = await upload(server, alice, data, "exact.bin")
        assert f["size"] == LIMIT
        got = await download(server, alice, f["id"])
        assert sha256(got.body) == sha256(data)
    assert not list(server.state.files.blobs.scan("partial"))


def _chunked(url: str, account: Account, data: bytes) -> Any:
    return post_chunked(url, account, "/api/files?name=chunked.bin", data)


async def test_limit_exactly_and_one_byte_over_chunked(server: RunningServer) -> None:
    alice = await register(server, "alice")
    with trio.fail_after(CEILING_SECS):
        over = await trio.to_thread.run_sync(_chunked, server.url, alice, os.urandom(LIMIT + 1))
        assert over.status == 413 and over.json["error"] == "too_large" and over.json["limit_bytes"] == LIMIT
        data = os.urandom(LIMIT)
        exact = await trio.to_thread.run_sync(_chunked, server.url, alice, data)
        assert exact.status == 201, exact.body
        assert exact.json["size"] == LIMIT
        assert sha256((await download(server, alice, exact.json["id"])).body) == sha256(data)
        rows = await server.db.fetch("t", "SELECT size FROM attachments")
        assert [r["size"] for r in rows] == [LIMIT]  # the refused one left no row
    assert not list(server.state.files.blobs.scan("partial"))  # and no partial file


async def test_resumable_upload_over_the_limit_is_refused_at_creation(server: RunningServer) -> None:
    alice = await register(server, "alice")
    resp = await tus_create(server, alice, LIMIT + 1)
    assert resp.status == 413 and resp.json["limit_bytes"] == LIMIT
    assert resp.headers["tus-resumable"] == "1.0.0"
    options = await http_request("OPTIONS", server.url + "/api/uploads", headers=auth(alice))
    assert options.headers["tus-version"] == "1.0.0"
    assert options.headers["tus-extension"] == "creation,termination"
    assert options.headers["tus-max-size"] == str(LIMIT)


def _patch_then_drop(url: str, account: Account, location: str, data: bytes, sent: int) -> None:
    """Send the first ``sent`` bytes of a PATCH body, then lose the connection."""
    c = RawHTTPS(url)
    c.send_head("PATCH", location, {
        **auth(account), **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(len(data)),
    })
    c.send(data[:sent])
    c.close()  # no more bytes, no close_notify: as when a laptop's Wi-Fi goes


async def test_an_interrupted_upload_resumes_to_the_identical_sha256(server: RunningServer) -> None:
    alice = await register(server, "alice")
    data = os.urandom(3 * 1024 * 1024)
    sent = 1024 * 1024 + 12345
    with trio.fail_after(CEILING_SECS):
        created = await tus_create(server, alice, len(data), "photos.tar")
        assert created.status == 201, created.body
        location = created.headers["location"]
        await trio.to_thread.run_sync(_patch_then_drop, server.url, alice, location, data, sent)
        # The server keeps every byte that reached it (the cut PATCH is still writing them
        # while the first HEADs come in; the ceiling above ends this if bytes were lost).
        while (offset := await tus_offset(server, alice, location)) < sent:
            pass
        assert offset == sent
        # Resume as a client does: send the rest from the server's offset. While the cut
        # PATCH is still ending, the upload is locked (423): ask again.
        while (resp := await tus_patch(server, alice, location, offset, data[offset:])).status == 423:
            pass
        assert resp.status == 204, resp.body
        assert int(resp.headers["upload-offset"]) == len(data)
        info = (await server.get(location, headers=auth(alice))).json
        assert info["complete"] and info["file"]["size"] == len(data)
        got = await download(server, alice, info["id"])
    assert sha256(got.body) == sha256(data)
    assert (await server.db.fetchval("t", "SELECT sha256 FROM file_blobs")).hex() == sha256(data)


async def test_resumable_upload_offsets_and_termination(server: RunningServer) -> None:
    alice, bob = await register(server, "alice"), await register(server, "bob")
    created = await tus_create(server, alice, 1000)
    location = created.headers["location"]
    wrong = await tus_patch(server, alice, location, 10, b"x" * 10)
    assert wrong.status == 409 and wrong.json["offset"] == 0
    assert (await tus_patch(server, alice, location, 0, b"x" * 1001)).status == 413  # past its length
    assert await tus_offset(server, alice, location) == 0
    no_version = await http_request("PATCH", server.url + location, body=b"x", headers={
        **auth(alice), "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert no_version.status == 412 and no_version.headers["tus-version"] == "1.0.0"
    # Someone else's upload is answered like a missing one.
    assert (await tus_patch(server, bob, location, 0, b"x")).status == 404
    gone = await http_request("DELETE", server.url + location, headers={**auth(alice), **TUS})
    assert gone.status == 204
    assert (await http_request("HEAD", server.url + location, headers={**auth(alice), **TUS})).status == 404
    assert not list(server.state.files.blobs.scan("partial"))


@pytest.mark.parametrize("server_config", [{"files_quota_bytes": 5000, "files_pending_max": 2}], indirect=True)
async def test_quota_and_unfinished_uploads_are_capped(server: RunningServer) -> None:
    alice = await register(server, "alice")
    await upload(server, alice, b"q" * 3000)
    over = await trio.to_thread.run_sync(upload_sync, server.url, alice, b"q" * 2001)
    assert over.status == 413 and over.json["error"] == "quota_exceeded"
    assert (await tus_create(server, alice, 100)).status == 201
    assert (await tus_create(server, alice, 100)).status == 201
    third = await tus_create(server, alice, 100)
    assert third.status == 429 and third.json["error"] == "too_many_uploads"


async def test_uploads_need_a_session_and_pass_the_origin_check(server: RunningServer) -> None:
    alice = await register(server, "alice")
    cookie = {"Cookie": f"__Host-chatd_session={alice.token}"}
    anonymous = await http_request("POST", server.url + "/api/files?name=x", body=b"x")
    assert anonymous.status == 401
    foreign = await http_request("POST", server.url + "/api/files?name=x", body=b"x",
                                 headers={**cookie, "Origin": "https://evil.example"})
    assert foreign.status == 403 and foreign.json["error"] == "bad_origin"
    no_origin = await http_request("POST", server.url + "/api/uploads", headers={**cookie, **TUS, "Upload-Length": "1"})
    assert no_origin.status == 403
    same = await http_request("POST", server.url + "/api/files?name=x", body=b"x",
                              headers={**cookie, "Origin": server.origin})
    assert same.status == 201
    assert await server.db.fetchval("t", "SELECT count(*) FROM attachments") == 1


# --- reading: who may, and how files are served ------------------------------------------------


async def _share(server: RunningServer, account: Account, ch: int, f: dict[str, Any]) -> None:
    async with connect(server, account) as c:
        ack = await c.request("send", ch=ch, cid=os.urandom(16), body="", files=[f["id"]])
        assert ack["op"] == "ack", ack


def _comparable(resp: Any) -> tuple[int, bytes, dict[str, str]]:
    return resp.status, resp.body, {k: v for k, v in resp.headers.items() if k != "date"}


async def test_non_members_former_members_and_strangers_get_exactly_the_missing_answer(server: RunningServer) -> None:
    alice, bob, carol = [await register(server, n) for n in ("alice", "bob", "carol")]
    with trio.fail_after(CEILING_SECS):
        async with connect(server, alice) as a:
            secret = (await a.ok("channel.create", name="secret", private=True))["channel"]["id"]
            await a.ok("channel.invite", ch=secret, user="carol")
        f = await upload(server, alice, b"%PDF-1.4 the plans", "plans.pdf")
        # Before it is shared, only its uploader may read it.
        assert (await download(server, alice, f["id"])).status == 200
        assert (await download(server, carol, f["id"])).status == 404
        await _share(server, alice, secret, f)
        assert (await download(server, carol, f["id"])).body == b"%PDF-1.4 the plans"
        async with connect(server, carol) as c:
            await c.ok("channel.leave", ch=secret)
        missing = _comparable(await download(server, alice, "NoSuchFileAnywhere0000"))
        assert missing[0] == 404
        for who in (bob, carol, None):  # never a member, a former member, no session at all
            for suffix in ("", "/thumb"):
                assert _comparable(await download(server, who, f["id"], suffix)) == missing, (who, suffix)
        cookie_only = await http_request("GET", f"{server.url}/files/{f['id']}",
                                         headers={"Cookie": "__Host-chatd_session=forged"})
        assert _comparable(cookie_only) == missing


async def _served(server: RunningServer, data: bytes, name: str) -> tuple[dict[str, Any], Any]:
    """Upload ``data`` as alice; the File and how it is served to her (and its thumbnail's status)."""
    alice = await register(server, "alice")
    f = await upload(server, alice, data, name)
    f["thumb_status"] = (await download(server, alice, f["id"], "/thumb")).status
    return f, await download(server, alice, f["id"])


def _assert_download_only(resp: Any) -> None:
    h = resp.headers
    assert h["content-disposition"].startswith("attachment;")
    assert h["content-type"] == "application/octet-stream"
    assert h["x-content-type-options"] == "nosniff"
    assert h["content-security-policy"].startswith("sandbox;")
    assert h["cross-origin-resource-policy"] == "same-origin"


async def test_an_html_page_named_png_is_only_ever_a_download(server: RunningServer) -> None:
    page = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
    f, resp = await _served(server, page, "cat.png")
    assert (f["kind"], f["type"]) == ("file", "text/html")
    _assert_download_only(resp)
    assert resp.body == page


async def test_a_png_html_polyglot_is_never_inline(server: RunningServer) -> None:
    polyglot = png_bytes(64, 48, text="<html><script>alert(document.cookie)</script></html>")
    f, resp = await _served(server, polyglot, "innocent.png")
    assert f["kind"] == "file" and f["thumb_status"] == 404  # never shown as an image either
    _assert_download_only(resp)


async def test_svg_with_script_is_an_attachment_only(server: RunningServer) -> None:
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    f, resp = await _served(server, svg, "logo.svg")
    assert (f["kind"], f["type"]) == ("file", "image/svg+xml")
    _assert_download_only(resp)


async def test_an_image_is_inline_with_the_same_protective_headers(server: RunningServer) -> None:
    f, resp = await _served(server, png_bytes(64, 48), "pic.png")
    assert f["kind"] == "image" and f["thumb_status"] == 200
    h = resp.headers
    assert h["content-type"] == "image/png" and h["content-disposition"].startswith("inline;")
    assert h["x-content-type-options"] == "nosniff" and h["cross-origin-resource-policy"] == "same-origin"
    assert h["content-security-policy"].startswith("sandbox;")
    bob = await register(server, "bob")  # anyone else: as missing
    assert (await download(server, bob, f["id"], "?download=1")).status == 404


@pytest.mark.parametrize(("raw", "stored", "fallback"), [
    ("../../etc/passwd", ".._.._etc_passwd", ".._.._etc_passwd"),
    ("evil\x00.exe\x00.txt", "evil.exe.txt", "evil.exe.txt"),
    ("new\r\nline\u202e.txt", "newline.txt", "newline.txt"),
    ("résumé «2024» 📄.pdf", "résumé «2024» 📄.pdf", "resume 2024 .pdf"),
])
async def test_names_are_kept_but_made_safe(server: RunningServer, raw: str, stored: str, fallback: str) -> None:
    alice = await register(server, "alice")
    f = await upload(server, alice, b"%PDF-1.4", raw)
    assert f["name"] == stored
    resp = await download(server, alice, f["id"])
    disposition = resp.headers["content-disposition"]
    assert f'filename="{fallback}"' in disposition
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition.split("filename*=")[0]
    from urllib.parse import unquote
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == stored


async def test_a_300_byte_name_is_cut_to_255_bytes_keeping_its_extension(server: RunningServer) -> None:
    alice = await register(server, "alice")
    f = await upload(server, alice, b"x", "é" * 150 + ".tar.gz")  # 300 bytes of é, then the extension
    assert len(f["name"].encode()) <= 255 and f["name"].endswith("é.gz")
    assert f["name"].startswith("é" * 100)


async def test_range_requests(server: RunningServer) -> None:
    alice = await register(server, "alice")
    data = os.urandom(100_000)
    f = await upload(server, alice, data)
    part = await download(server, alice, f["id"], headers={"Range": "bytes=1000-1999"})
    assert part.status == 206 and part.body == data[1000:2000]
    assert part.headers["content-range"] == "bytes 1000-1999/100000"
    tail = await download(server, alice, f["id"], headers={"Range": "bytes=-500"})
    assert tail.status == 206 and tail.body == data[-500:]
    rest = await download(server, alice, f["id"], headers={"Range": "bytes=99000-"})
    assert rest.body == data[99000:]
    beyond = await download(server, alice, f["id"], headers={"Range": "bytes=100000-"})
    assert beyond.status == 416 and beyond.headers["content-range"] == "bytes */100000"
    etag = part.headers["etag"]
    assert (await download(server, alice, f["id"], headers={"If-None-Match": etag})).status == 304
    stale = await download(server, alice, f["id"], headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status == 200 and stale.body == data
    head = await http_request("HEAD", f"{server.url}/files/{f['id']}", headers=auth(alice))
    assert head.status == 200 and head.headers["content-length"] == "100000" and head.body == b""


async def test_the_discard_route_reads_like_an_upload_and_keeps_nothing(server: RunningServer) -> None:
    """bench S10's yardstick: the same body reading, with the same limit, and nothing stored."""
    alice = await register(server, "alice")
    resp = await http_request("POST", server.url + "/api/files/discard", body=os.urandom(LIMIT), headers=auth(alice))
    assert resp.status == 200 and resp.json == {"bytes": LIMIT}
    over = await trio.to_thread.run_sync(post_chunked, server.url, alice, "/api/files/discard", os.urandom(LIMIT + 1))
    assert over.status == 413 and over.json["limit_bytes"] == LIMIT
    assert await server.db.fetchval("t", "SELECT count(*) FROM attachments") == 0
    assert list(server.state.files.blobs.scan("blobs")) == []
