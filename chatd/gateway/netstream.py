"""A connected socket, optionally TLS, whose writes never block: chatd's own stream under /ws.

TLS runs through an ``ssl.SSLObject`` over two memory BIOs (as trio's ``SSLStream`` does), but
writing is synchronous: ``write_nowait`` encrypts into a ciphertext buffer and hands as much as
the kernel takes to one non-blocking ``send``. The fan-out writes to many sockets from one task
this way, with no scheduler pass per socket; only a socket whose kernel buffer is full needs a
task (``flush`` waits until it is writable). Ciphertext leaves in the order it was produced, so
records never interleave, and nothing but ``flush`` ever waits to write (one writer at a time).

Reading is an ordinary ``receive_some`` from the connection's one reader task. Errors surface as
trio's ``BrokenResourceError`` (the peer or the network failed) and ``ClosedResourceError``
(this side closed it), as a trio stream's would; Hypercorn is served through the same stream.
"""

from __future__ import annotations

import socket
import ssl

import trio

RECV_BYTES = 64 * 1024  # one read: a whole maximal client frame, or 4 TLS records of upload
# A memory BIO keeps the capacity of the most it ever held (measured: one 60 KB write left each
# connection 44–63 KiB bigger for good). So plaintext enters the TLS object in pieces of this
# size, each piece's ciphertext taken out at once, and the socket is read in pieces of one TLS
# record: an idle connection keeps buffers of a few KiB whatever it once carried.
TLS_WRITE_BYTES = 4 * 1024
TLS_FILL_BYTES = 16 * 1024 + 512  # one maximal TLS record with its header and tag


class NetStream:
    """One accepted connection. ``sock`` is non-blocking; ``tls`` (if any) is server-side and
    reads/writes through ``incoming``/``outgoing``. The stream owns the socket."""

    def __init__(
        self, sock: socket.socket, tls: ssl.SSLObject | None = None,
        incoming: ssl.MemoryBIO | None = None, outgoing: ssl.MemoryBIO | None = None,
    ) -> None:
        self.socket = sock
        self._tls, self._in, self._out = tls, incoming, outgoing
        self._pending = bytearray()  # bytes written but not yet taken by the kernel, in order
        self._held = b""  # TLS 1.3 session tickets, sent before the first bytes we write
        self._closed = False
        self._broken = False

    @classmethod
    def accepted(cls, sock: socket.socket, ctx: ssl.SSLContext | None) -> NetStream:
        """Wrap an accepted socket; with ``ctx``, TLS (``handshake`` must run first)."""
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # frames go out at once
        if ctx is None:
            return cls(sock)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        return cls(sock, ctx.wrap_bio(incoming, outgoing, server_side=True), incoming, outgoing)

    @property
    def is_tls(self) -> bool:
        return self._tls is not None

    @property
    def pending_bytes(self) -> int:
        """Bytes written that the kernel has not taken yet (0: nothing waits for ``flush``)."""
        return len(self._pending)

    def selected_alpn_protocol(self) -> str | None:
        return self._tls.selected_alpn_protocol() if self._tls is not None else None

    def peer_address(self) -> str:
        """The peer's IP address, as Hypercorn gives it to Quart's ``remote_addr``; "" for a
        unix-socket peer or one already gone."""
        if self.socket.family not in (socket.AF_INET, socket.AF_INET6):
            return ""
        try:
            return str(self.socket.getpeername()[0])
        except OSError:
            return ""

    # --- TLS handshake ---

    async def handshake(self) -> None:
        """Run the TLS handshake (no-op without TLS). Raises ``BrokenResourceError`` if it fails."""
        tls = self._tls
        if tls is None:
            return
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._take_ciphertext()
                await self.flush()
                await self._fill()
            except (ssl.SSLError, OSError) as exc:
                self._take_ciphertext()  # the alert, best effort
                self._send_some()
                raise trio.BrokenResourceError(f"TLS handshake failed: {exc}") from None
        if tls.version() == "TLSv1.3":
            # OpenSSL writes session tickets as soon as the handshake ends; a client that only
            # sends (an upload) and then closes would find them unread and reset the
            # connection, destroying data not yet read here. Send them with our first write,
            # as trio's SSLStream does (openssl/openssl#7948).
            self._held = self._out.read() if self._out is not None else b""
        else:
            self._take_ciphertext()
        await self.flush()

    # --- reading ---

    async def receive_some(self, max_bytes: int = RECV_BYTES) -> bytes:
        """The next bytes from the peer (at most ``max_bytes``); b"" at the end of the stream."""
        tls = self._tls
        if tls is None:
            return await self._recv(max_bytes)
        while True:
            try:
                data = tls.read(max_bytes)
            except ssl.SSLWantReadError:
                if not await self._fill():
                    return b""
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""  # close_notify, or a peer that just closed TCP (browsers do)
            except ssl.SSLError as exc:
                self._broken = True
                raise trio.BrokenResourceError(f"TLS error: {exc}") from None
            if self._out is not None and self._out.pending:  # post-handshake messages
                self._take_ciphertext()
                self._send_some()
            return data

    async def _fill(self) -> bool:
        """Feed the TLS object the next bytes from the socket; False at the end of the stream."""
        assert self._in is not None
        raw = await self._recv(TLS_FILL_BYTES)
        if raw:
            self._in.write(raw)
            return True
        self._in.write_eof()
        return False

    async def _recv(self, max_bytes: int) -> bytes:
        if self._closed:
            raise trio.ClosedResourceError("stream closed")
        try:
            data = self.socket.recv(max_bytes)
        except BlockingIOError:
            pass
        except OSError as exc:
            self._broken = True
            raise trio.BrokenResourceError(str(exc)) from None
        else:
            await trio.lowlevel.checkpoint()  # data was there at once: still let others run
            return data
        while True:
            await trio.lowlevel.wait_readable(self.socket)  # ClosedResourceError if closed meanwhile
            try:
                return self.socket.recv(max_bytes)
            except BlockingIOError:
                continue
            except OSError as exc:
                self._broken = True
                raise trio.BrokenResourceError(str(exc)) from None

    # --- writing ---

    def write_nowait(self, data: bytes) -> bool:
        """Queue ``data`` after everything written before and send what the kernel takes now.

        Never blocks. True iff nothing is left waiting (else ``flush`` must run). Raises
        ``BrokenResourceError`` if the connection failed, ``ClosedResourceError`` once closed.
        """
        if self._closed:
            raise trio.ClosedResourceError("stream closed")
        if self._tls is not None:
            view = memoryview(data)
            try:
                for at in range(0, len(data), TLS_WRITE_BYTES):
                    self._tls.write(view[at : at + TLS_WRITE_BYTES])
                    self._take_ciphertext()
            except ssl.SSLError as exc:
                self._broken = True
                raise trio.BrokenResourceError(f"TLS error: {exc}") from None
        elif self._pending:
            self._pending += data
        else:
            sent = self._send_now(data)
            if sent == len(data):
                return True
            self._pending += memoryview(data)[sent:]
        return self._send_some()

    async def flush(self) -> None:
        """Wait until the kernel has taken everything written (the one writer that may wait)."""
        while not self._send_some():
            await trio.lowlevel.wait_writable(self.socket)

    async def send_all(self, data: bytes) -> None:
        """trio's ``Stream.send_all``: write, then wait for room if the kernel had none."""
        if self.write_nowait(data):
            await trio.lowlevel.checkpoint()
        else:
            await self.flush()

    def _take_ciphertext(self) -> None:
        if self._held:
            self._pending += self._held
            self._held = b""
        if self._out is not None and self._out.pending:
            self._pending += self._out.read()

    def _send_some(self) -> bool:
        """Send pending bytes until done (True) or the kernel is full (False)."""
        pending = self._pending
        if not pending:
            return True
        while pending:
            sent = self._send_now(pending)
            if sent == 0:
                return False
            del pending[:sent]
        self._pending = bytearray()  # not the old one's capacity (it held a backlog)
        return True

    def _send_now(self, data: bytes | bytearray) -> int:
        if self._closed:
            raise trio.ClosedResourceError("stream closed")
        try:
            return self.socket.send(data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            self._broken = True
            raise trio.BrokenResourceError(str(exc)) from None

    # --- closing ---

    async def send_eof(self) -> None:
        """Half-close a plain TCP stream (Hypercorn's ``_close``); TLS has no half-close here."""
        if self._tls is not None:
            raise AttributeError("send_eof")  # as trio's SSLStream: Hypercorn expects this
        await trio.lowlevel.checkpoint()
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        """Close now (idempotent): TLS sends close_notify if the kernel takes it, then the
        socket is closed; a task waiting on it gets ``ClosedResourceError``."""
        if self._closed:
            return
        if self._tls is not None and not self._broken:
            try:
                self._tls.unwrap()
            except (ssl.SSLError, ValueError):
                pass  # wants the peer's close_notify too; we do not wait for it
            self._take_ciphertext()
            try:
                self._send_some()
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
        self._closed = True
        trio.lowlevel.notify_closing(self.socket)
        self.socket.close()

    async def aclose(self) -> None:
        self.close()
        await trio.lowlevel.checkpoint()
