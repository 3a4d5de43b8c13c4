"""httpcore's network layer on asyncio's own transports, for webhook deliveries.

httpcore reaches the network through a backend; its default goes through anyio, whose
cancel scopes, checkpoints and attribute lookups cost about a third of a small request's CPU
in a delivery's profile. Deliveries only ever run on asyncio, so this backend talks to
asyncio's transports directly: a read waits for what the protocol buffered, a write hands the
bytes to the transport and waits only while it asks for a pause, and every wait has the
deadline httpcore passes. TLS is asyncio's, with the hostname for SNI and the certificate.
"""

from __future__ import annotations

import asyncio
import ssl
import typing

import httpcore

__all__ = ["AsyncioNetworkBackend"]

# Reading pauses while this much arrived unread: a receiver cannot fill memory.
_HIGH_WATER = 256 * 1024
# Writes are held until the answer is read, or until this much waits to be sent.
_HOLD_AT_MOST = 64 * 1024


class _Connection(asyncio.Protocol):
    """What the transport delivers, buffered until httpcore reads it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.lost: Exception | None = None
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._paused_reading = False

    # ---- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self._paused_reading = True
        self._wake_reader()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake_reader()
        return None  # close the transport: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.lost = exc
        self._wake_reader()
        self._wake_writer()

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake_writer()

    # ---- waiting ---------------------------------------------------------------------------

    def _wake_reader(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)

    def _wake_writer(self) -> None:
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def read(self, max_bytes: int) -> bytes:
        while not self.buffer and not self.eof:
            self._readable = asyncio.get_running_loop().create_future()
            try:
                await self._readable
            finally:
                self._readable = None
        if not self.buffer:
            self._raise_if_lost()
            return b""
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self._paused_reading and len(self.buffer) < _HIGH_WATER // 2:
            self._paused_reading = False
            if self.transport is not None:
                self.transport.resume_reading()
        return data

    async def drained(self) -> None:
        self._raise_if_lost()
        waiter = self._writable
        if waiter is not None:
            await asyncio.shield(waiter)
            self._raise_if_lost()

    def _raise_if_lost(self) -> None:
        if self.lost is not None:
            # As an OSError whatever the transport met, so that it reads as a connection error.
            raise ConnectionResetError(str(self.lost) or type(self.lost).__name__) from self.lost


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, connection: _Connection) -> None:
        self._transport = transport
        self._connection = connection
        # httpcore writes a request's head and its body separately and then reads the answer.
        # Held until then, they leave in one send: one system call and one packet, not two.
        self._unsent: list[bytes] = []
        self._unsent_size = 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        try:
            if self._unsent:
                self._send_held()
            if self._connection.buffer:
                return await self._connection.read(max_bytes)
            async with asyncio.timeout(timeout):
                return await self._connection.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout("no data in time") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        self._unsent.append(buffer)
        self._unsent_size += len(buffer)
        if self._unsent_size < _HOLD_AT_MOST:
            return
        try:
            self._send_held()
            async with asyncio.timeout(timeout):
                await self._connection.drained()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout("could not send in time") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    def _send_held(self) -> None:
        data = b"".join(self._unsent) if len(self._unsent) > 1 else self._unsent[0]
        self._unsent.clear()
        self._unsent_size = 0
        if self._transport.is_closing():
            raise ConnectionResetError("the connection was closed")
        self._transport.write(data)

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._connection, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout("the TLS handshake took too long") from exc
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if transport is None:  # the peer closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._connection.transport = transport
        return _Stream(transport, self._connection)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        if info == "is_readable":
            # httpcore asks before reusing an idle connection: anything that arrived meanwhile
            # (data or the peer's close) means it must not be reused. The protocol has already
            # read from the socket whatever the event loop saw.
            connection = self._connection
            return bool(connection.buffer) or connection.eof or self._transport.is_closing()
        return None


class AsyncioNetworkBackend(httpcore.AsyncNetworkBackend):
    """TCP connections for httpcore on asyncio's transports (``TCP_NODELAY`` is asyncio's
    default)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_connection(
                    _Connection,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connecting to {host}:{port} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        raw = transport.get_extra_info("socket")
        for option in socket_options or ():
            if raw is not None:
                raw.setsockopt(*option)
        return _Stream(transport, connection)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("Unix sockets are not supported here")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
