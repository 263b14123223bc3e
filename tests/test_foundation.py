"""The foundation end to end: health, security headers, database reachability."""

from __future__ import annotations

from tests.helpers.server import RunningServer


async def test_healthz_ok_with_database(server: RunningServer) -> None:
    resp = await server.get("/healthz")
    assert resp.status == 200
    assert resp.json["status"] == "ok"
    assert resp.json["database"] == "ok"


async def test_security_headers_on_every_response(server: RunningServer) -> None:
    for path in ("/healthz", "/no-such-page"):
        resp = await server.get(path)
        h = resp.headers
        assert h["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "script-src 'self'" in h["content-security-policy"]
        assert "unsafe-inline" not in h["content-security-policy"]
        assert h["referrer-policy"] == "no-referrer"
        assert h["strict-transport-security"].startswith("max-age=")


async def test_unknown_path_is_json_404(server: RunningServer) -> None:
    resp = await server.get("/nope")
    assert resp.status == 404
    assert resp.json["error"] == "not_found"


async def test_assets_are_cached_compressed_and_revalidated(server: RunningServer) -> None:
    plain = await server.get("/js/net/cbor.js")
    assert plain.status == 200
    assert plain.headers["content-type"].startswith("text/javascript")
    assert "content-encoding" not in plain.headers
    etag = plain.headers["etag"]
    gz = await server.get("/js/net/cbor.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert gz.headers["content-encoding"] == "gzip"
    import gzip

    assert gzip.decompress(gz.body) == plain.body
    assert len(gz.body) < len(plain.body) / 2
    again = await server.get("/js/net/cbor.js", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    refused = await server.get("/js/net/cbor.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


async def test_assets_cannot_escape_their_folder(server: RunningServer) -> None:
    for path in ("/js/../../chatd/config.py", "/js/%2e%2e/%2e%2e/setup.cfg", "/css/nope.css", "/img/"):
        resp = await server.get(path)
        assert resp.status == 404, path
        assert b"[mypy]" not in resp.body and b"ConfigError" not in resp.body


async def test_only_http11_is_offered(server: RunningServer) -> None:
    import ssl
    from urllib.parse import urlsplit

    from tests.helpers.server import insecure_ssl_context

    parts = urlsplit(server.url)
    ctx = insecure_ssl_context()
    ctx.set_alpn_protocols(["h2", "http/1.1"])

    def negotiate() -> str | None:
        import socket

        with socket.create_connection((parts.hostname, parts.port)) as raw, ctx.wrap_socket(raw) as tls:
            assert isinstance(tls, ssl.SSLSocket)
            return tls.selected_alpn_protocol()

    import trio

    assert await trio.to_thread.run_sync(negotiate) == "http/1.1"
