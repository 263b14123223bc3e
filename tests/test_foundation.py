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
