"""HTTP holes a black-box probe found (issue 16): each answered with a clear 4xx, never a 500,
and never a redirect to a host the client chose."""

from __future__ import annotations

import pytest

from chatd.web.static import AssetCache, client_dir
from tests.helpers.client import register
from tests.helpers.server import RunningServer

NUL_PATHS = ("/js/%00", "/js/app.js%00.png", "/css/%00", "/css/app.css%00", "/img/%00", "/img/icon.svg%00.png")


async def test_a_nul_in_an_asset_path_is_a_404(server: RunningServer) -> None:
    for path in NUL_PATHS:
        resp = await server.get(path)
        assert resp.status == 404, (path, resp.status, resp.body)
        assert resp.json["error"] == "not_found"
    assert (await server.get("/js/app.js")).status == 200  # the assets still serve


def test_the_asset_cache_holds_one_entry_per_file_whatever_the_spelling() -> None:
    """Requests cannot grow the cache: ``./a.js`` and ``x/../a.js`` are the file ``a.js``."""
    cache = AssetCache(client_dir() / "js")
    spellings = ["app.js", "./app.js", "././app.js", "net/../app.js", ".//app.js"]
    assets = [cache.load(s) for s in spellings]
    assert all(a is assets[0] for a in assets)
    assert len(cache) == 1
    assert cache.load("app.js\x00") is None and cache.load("x" * 5000) is None and len(cache) == 1


@pytest.mark.parametrize("path", ["/js//app.js", "/api//me", "/css//app.css?v=1"])
async def test_the_double_slash_redirect_never_names_the_requested_host(server: RunningServer, path: str) -> None:
    resp = await server.get(path, headers={"Host": "evil.example"})
    assert resp.status == 308
    location = resp.headers["location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil.example" not in location
    assert location == path.replace("//", "/")


async def test_a_nul_in_a_json_field_is_a_field_error(server: RunningServer) -> None:
    await register(server, "alice")
    cases = [
        ("/api/login", {"username": "ali\x00ce", "password": "correct horse battery"}, "username"),
        ("/api/login", {"username": "\x00", "password": "x"}, "username"),
        ("/api/register", {"username": "bob", "display_name": "B\x00b", "password": "correct horse battery"},
         "display_name"),
        ("/api/register", {"username": "b\x00b", "display_name": "Bob", "password": "correct horse battery"},
         "username"),
        ("/api/register", {"username": "bob", "display_name": "Bob", "password": "correct horse battery",
                           "invite": ["x", {"y": "\x00"}]}, "invite"),
    ]
    for path, body, field in cases:
        resp = await server.post(path, json_body=body)
        assert resp.status == 400, (path, body, resp.status, resp.body)
        assert resp.json["field"] == field
        assert resp.json["error"] == f"{field}_invalid"
        assert "U+0000" in resp.json["message"]
    # Passwords are hashed, never stored: a NUL in one is only a wrong password.
    resp = await server.post("/api/login", json_body={"username": "alice", "password": "correct\x00horse"})
    assert resp.status == 401 and resp.json["error"] == "invalid_credentials"
