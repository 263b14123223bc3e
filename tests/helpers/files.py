"""Uploading and downloading files in tests: the HTTP routes of PROTOCOL.md §16 over real TLS.

``RawHTTPS`` speaks HTTP/1.1 by hand over one TLS connection, for what ``http.client`` cannot do:
send the headers and read the answer before any body byte, cut a body mid-way, send chunks.
Everything here blocks: call it through ``trio.to_thread.run_sync`` (the ``a*`` helpers do).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import ssl
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import trio

from tests.helpers.client import Account
from tests.helpers.server import Endpoint, Response, http_request, insecure_ssl_context

TUS = {"Tus-Resumable": "1.0.0"}


@contextlib.contextmanager
def small_filesystem(mount: Path, size: int) -> Iterator[Path]:
    """A tmpfs of ``size`` bytes mounted at ``mount`` (created, mode 0700; needs root),
    unmounted when the block ends — the file store on a disk that fills up."""
    mount.mkdir(mode=0o700)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(mount: Path, name: str, size: int) -> None:
    """Something else takes ``size`` bytes of the disk at ``mount``."""
    (mount / name).write_bytes(b"\0" * size)


def auth(account: Account) -> dict[str, str]:
    """Headers of a non-browser client (a bearer token: no cookie, so no Origin needed)."""
    return {"Authorization": f"Bearer {account.token}"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RawHTTPS:
    """One HTTP/1.1 connection over TLS to ``url``'s host, driven by hand."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        raw = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.host = f"{parts.hostname}:{parts.port}"
        self.sock = insecure_ssl_context().wrap_socket(raw, server_hostname=parts.hostname)
        self._buf = b""

    def send_head(self, method: str, path: str, headers: dict[str, str]) -> None:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"] + [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_chunk(self, data: bytes, last: bool = False) -> None:
        """One piece of a chunked body (and, with ``last``, the terminating empty chunk)."""
        out = f"{len(data):x}\r\n".encode() + data + b"\r\n" if data else b""
        self.sock.sendall(out + (b"0\r\n\r\n" if last else b""))

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except (ssl.SSLError, ConnectionResetError):
            return False
        self._buf += data
        return bool(data)

    def response(self) -> Response:
        """Read one response (its body by Content-Length, else up to the end of the stream)."""
        while b"\r\n\r\n" not in self._buf:
            if not self._fill():
                raise ConnectionError(f"connection closed before a response: {self._buf!r}")
        head, _, self._buf = self._buf.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = headers.get("content-length")
        if length is not None:
            while len(self._buf) < int(length) and self._fill():
                pass
            body, self._buf = self._buf[: int(length)], self._buf[int(length):]
        else:
            while self._fill():
                pass
            body, self._buf = self._buf, b""
        return Response(int(status_line.split()[1]), headers, body)

    def abort(self) -> None:
        """Drop the connection at once, as a lost network would (TCP reset, no close_notify)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.sock.close()

    def close(self) -> None:
        self.sock.close()


def declare_only(url: str, account: Account, size: int) -> Response:
    """``POST /api/files`` declaring ``size`` bytes; the answer read before any is sent."""
    c = RawHTTPS(url)
    try:
        c.send_head("POST", "/api/files?name=big.bin", {**auth(account), "Content-Length": str(size)})
        return c.response()
    finally:
        c.close()


def post_chunked(url: str, account: Account, path: str, data: bytes, piece: int = 65536) -> Response:
    """POST ``data`` to ``path`` without Content-Length, ``piece`` bytes per chunk; stops sending
    once the server answers and closes, and returns its answer."""
    c = RawHTTPS(url)
    try:
        c.send_head("POST", path, {**auth(account), "Transfer-Encoding": "chunked"})
        for i in range(0, len(data), piece):
            try:
                c.send_chunk(data[i:i + piece], last=i + piece >= len(data))
            except OSError:
                break  # the server answered and closed: read what it said
        return c.response()
    finally:
        c.close()


def upload_sync(url: str, account: Account, data: bytes | Iterable[bytes], name: str = "file.bin",
                headers: dict[str, str] | None = None) -> Response:
    """``POST /api/files`` (an iterable body goes chunked)."""
    import http.client

    parts = urlsplit(url)
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=insecure_ssl_context(), timeout=120)
    try:
        hdrs = {**auth(account), **(headers or {})}
        conn.request("POST", f"/api/files?name={quote(name)}", body=data, headers=hdrs,
                     encode_chunked=not isinstance(data, bytes))
        resp = conn.getresponse()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


async def upload(server: Endpoint, account: Account, data: bytes, name: str = "file.bin") -> dict[str, Any]:
    """Upload ``data`` in one request; the File it became (asserts a 201)."""
    resp = await trio.to_thread.run_sync(upload_sync, server.url, account, data, name)
    assert resp.status == 201, (resp.status, resp.body)
    file: dict[str, Any] = resp.json
    return file


async def download(server: Endpoint, account: Account | None, file_id: str, suffix: str = "",
                   headers: dict[str, str] | None = None) -> Response:
    """``GET /files/<id><suffix>`` as ``account`` (None: without any credential)."""
    hdrs = {**(auth(account) if account else {}), **(headers or {})}
    return await http_request("GET", f"{server.url}/files/{file_id}{suffix}", headers=hdrs)


async def tus_create(server: Endpoint, account: Account, size: int, name: str = "big.bin") -> Response:
    meta = "filename " + base64.b64encode(name.encode()).decode()
    return await http_request("POST", server.url + "/api/uploads", headers={
        **auth(account), **TUS, "Upload-Length": str(size), "Upload-Metadata": meta,
    })


async def tus_offset(server: Endpoint, account: Account, location: str) -> int:
    resp = await http_request("HEAD", server.url + location, headers={**auth(account), **TUS})
    assert resp.status == 200, resp.status
    return int(resp.headers["upload-offset"])


async def tus_patch(server: Endpoint, account: Account, location: str, offset: int, data: bytes) -> Response:
    return await http_request("PATCH", server.url + location, body=data, headers={
        **auth(account), **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
    })
