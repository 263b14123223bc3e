"""The web client's static files (scripts, styles, images): public, cacheable, no user data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from quart import Response, send_from_directory

from chatd.web.app import client_dir

if TYPE_CHECKING:
    from quart_trio import QuartTrio

    from chatd.web.app import AppState

ASSET_FOLDERS = ("js", "css", "img")
# Short: a deploy of a new client should reach browsers within minutes; the ETag revalidates.
ASSET_MAX_AGE_SECS = 300


def register(app: QuartTrio, state: AppState) -> None:
    root = client_dir()

    async def asset(folder: str, path: str) -> Response:
        response = await send_from_directory(root / folder, path)
        response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE_SECS}"
        return response

    def view_for(folder: str) -> Any:
        async def view(path: str) -> Response:
            return await asset(folder, path)

        return view

    for folder in ASSET_FOLDERS:
        app.add_url_rule(f"/{folder}/<path:path>", f"asset_{folder}", view_for(folder), methods=["GET"])
