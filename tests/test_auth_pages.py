"""The log-in, registration and app pages: served right, CSP-clean, redirects that stay local."""

from __future__ import annotations

import re

import pytest

from chatd.web.guard import safe_next
from chatd.web.static import client_dir
from tests.helpers.server import RunningServer
from tests.test_auth_support import Client, cookie_header, fast_passwords

__all__ = ["fast_passwords"]
pytestmark = pytest.mark.usefixtures("fast_passwords")

PAGES = ("login.html", "register.html", "index.html")


@pytest.mark.parametrize("name", PAGES)
def test_pages_have_no_inline_code(name: str) -> None:
    html = (client_dir() / name).read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*>", html)
    entry = "app.js" if name == "index.html" else "auth-page.js"
    assert scripts == [f'<script type="module" src="/js/{entry}">']
    assert re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S) == [""]
    assert "<style" not in html
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handlers
    assert 'href="/css/base.css"' in html


def test_base_css_has_light_and_dark() -> None:
    css = (client_dir() / "css" / "base.css").read_text(encoding="utf-8")
    assert "@media (prefers-color-scheme: dark)" in css
    assert "color-scheme: light dark" in css


async def test_public_pages_are_served(server: RunningServer) -> None:
    for path, marker in (("/login", b'data-page="login"'), ("/register", b'data-page="register"')):
        resp = await server.get(path)
        assert resp.status == 200, path
        assert resp.headers["content-type"].startswith("text/html")
        assert resp.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in resp.headers["content-security-policy"]
        assert marker in resp.body


async def test_page_assets_are_served(server: RunningServer) -> None:
    js = await server.get("/js/auth-page.js")
    assert js.status == 200
    assert "javascript" in js.headers["content-type"]
    css = await server.get("/css/base.css")
    assert css.status == 200
    assert css.headers["content-type"].startswith("text/css")


async def test_app_page_needs_a_session(server: RunningServer) -> None:
    resp = await server.get("/")
    assert resp.status == 302
    assert resp.headers["location"] == "/login?next=/"
    resp = await server.get("/?channel=general&x=1")
    assert resp.headers["location"] == "/login?next=/%3Fchannel%3Dgeneral%26x%3D1"
    c = Client(server)
    await c.register("alice")
    resp = await c.get("/")
    assert resp.status == 200
    assert resp.headers["cache-control"] == "no-store"
    assert b"<html" in resp.body


async def test_logged_in_visitors_skip_the_forms(server: RunningServer) -> None:
    c = Client(server)
    await c.register("alice")
    assert c.token is not None
    for path, target in (
        ("/login", "/"),
        ("/login?next=/channels/7", "/channels/7"),
        ("/login?next=//evil.example/x", "/"),
        ("/login?next=https://evil.example/", "/"),
        ("/login?next=/%5Cevil.example", "/"),
        ("/register", "/"),
    ):
        resp = await server.get(path, headers=cookie_header(c.token))
        assert (resp.status, resp.headers["location"]) == (302, target), path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("/", "/"),
        ("/a/b?c=d#e", "/a/b?c=d#e"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=y", "/"),
        ("relative/path", "/"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected
