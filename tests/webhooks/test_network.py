"""The webhook sender's own network layer (``embedcrm.webhooks.network`` under httpcore), against
raw servers on 127.0.0.1 that do what real receivers do: TLS with SNI, closing idle connections,
long answers, slow reading, refusing to connect."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from embedcrm.db import utcnow
from embedcrm.webhooks.send import WebhookJob, WebhookTransport
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks

LOOPBACK = parse_allowed_networks("127.0.0.0/8")

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _job(url: str, body: bytes = b'{"type":"contact.updated"}') -> WebhookJob:
    return WebhookJob(
        workspace_id=uuid.uuid4(),
        delivery_id=uuid.uuid4(),
        endpoint_key=uuid.uuid4(),
        attempt_number=1,
        url=url,
        secrets=("whsec_" + "A" * 43 + "=",),
        message_id=f"msg_{uuid.uuid4().hex}",
        event_id=uuid.uuid4(),
        event_type="contact.updated",
        body=body,
        platform=True,
    )


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """One HTTP/1.1 request's head and body, or None when the client closed."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head, await reader.readexactly(length)


@asynccontextmanager
async def _server(handler: Handler, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def _certificate(tmp_path: Path, hostname: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for ``hostname``: the server's context and a client's that
    trusts it (and nothing else)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def _transport(client: httpx.AsyncClient, timeout: float = 5.0) -> WebhookTransport:
    return WebhookTransport(client, clock=utcnow, timeout=timeout)


async def test_a_delivery_over_tls_names_the_host_and_checks_its_certificate(
    tmp_path: Path,
) -> None:
    server_tls, client_tls = _certificate(tmp_path, "localhost")
    names: list[str | None] = []

    def remember_name(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        names.append(name)

    server_tls.sni_callback = remember_name
    bodies: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await _read_request(reader)) is not None:
            bodies.append(request[1])
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    async with (
        _server(answer, tls=server_tls) as port,
        create_webhook_client(LOOPBACK, verify=client_tls) as client,
    ):
        sender = _transport(client)
        first = await sender.send(_job(f"https://localhost:{port}/hook", b'{"n":1}'))
        second = await sender.send(_job(f"https://localhost:{port}/hook", b'{"n":2}'))
    assert (first.succeeded, first.status_code, first.excerpt) == (True, 200, "ok")
    assert (second.succeeded, second.error) == (True, None)
    assert bodies == [b'{"n":1}', b'{"n":2}']
    # One handshake, for the hostname: the second delivery reused the connection.
    assert names == ["localhost"]


async def test_a_certificate_for_another_host_is_a_failed_connection(tmp_path: Path) -> None:
    server_tls, client_tls = _certificate(tmp_path, "receiver.example")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.close()

    async with (
        _server(answer, tls=server_tls) as port,
        create_webhook_client(LOOPBACK, verify=client_tls) as client,
    ):
        outcome = await _transport(client).send(_job(f"https://localhost:{port}/hook"))
    assert not outcome.succeeded and outcome.status_code is None
    assert outcome.error is not None and outcome.error.startswith("connection: ConnectError")
    assert "certificate" in outcome.error.lower()


async def test_an_idle_connection_the_receiver_closed_is_not_reused() -> None:
    """Receivers close idle keep-alive connections at will; the next delivery must open a new
    one, not fail on the dead one."""
    connections = 0

    async def answer_once_then_close(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal connections
        connections += 1
        if await _read_request(reader) is not None:
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
        writer.close()

    async with (
        _server(answer_once_then_close) as port,
        create_webhook_client(LOOPBACK) as client,
    ):
        sender = _transport(client)
        outcomes = []
        for _ in range(3):
            outcomes.append(await sender.send(_job(f"http://127.0.0.1:{port}/")))
            await asyncio.sleep(0.05)  # the close arrives while the connection idles
    assert [(o.succeeded, o.error) for o in outcomes] == [(True, None)] * 3
    assert connections == 3


async def test_a_long_answer_is_cut_to_an_excerpt_and_the_next_delivery_still_goes() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await _read_request(reader) is not None:
            body = b"x" * (4 * 1024 * 1024)
            writer.write(b"HTTP/1.1 500 Oops\r\ncontent-length: %d\r\n\r\n" % len(body))
            writer.write(body)
            try:
                await writer.drain()
            except ConnectionError:
                break
        writer.close()

    async with _server(answer) as port, create_webhook_client(LOOPBACK) as client:
        sender = _transport(client)
        first = await sender.send(_job(f"http://127.0.0.1:{port}/"))
        second = await sender.send(_job(f"http://127.0.0.1:{port}/"))
    for outcome in (first, second):
        assert (outcome.succeeded, outcome.status_code, outcome.error) == (
            False,
            500,
            "http: status 500",
        )
        assert outcome.excerpt == "x" * 1024


async def test_a_large_body_reaches_a_receiver_that_reads_slowly() -> None:
    """More than the socket buffers hold: the sender waits for the receiver to read."""
    body = b'{"data":"' + b"y" * (3 * 1024 * 1024) + b'"}'
    received: list[bytes] = []

    async def read_slowly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        chunks = []
        while length:
            await asyncio.sleep(0.001)
            chunk = await reader.read(min(length, 64 * 1024))
            chunks.append(chunk)
            length -= len(chunk)
        received.append(b"".join(chunks))
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()
        writer.close()

    async with _server(read_slowly) as port, create_webhook_client(LOOPBACK) as client:
        outcome = await _transport(client).send(_job(f"http://127.0.0.1:{port}/", body))
    assert (outcome.succeeded, outcome.error) == (True, None)
    assert received == [body]


async def test_a_receiver_that_stops_reading_times_out_instead_of_hanging() -> None:
    release = asyncio.Event()

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    body = b'{"data":"' + b"z" * (16 * 1024 * 1024) + b'"}'
    async with _server(never_read) as port, create_webhook_client(LOOPBACK) as client:
        started = asyncio.get_running_loop().time()
        outcome = await _transport(client, timeout=0.5).send(
            _job(f"http://127.0.0.1:{port}/", body)
        )
        elapsed = asyncio.get_running_loop().time() - started
        release.set()
    assert (outcome.succeeded, outcome.error, outcome.overloaded) == (
        False,
        "timeout: no answer in time",
        True,
    )
    assert elapsed < 3


async def test_a_refused_connection_is_a_connection_error() -> None:
    async def nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async with _server(nothing) as port:
        pass  # closed again: the port now refuses
    async with create_webhook_client(LOOPBACK) as client:
        outcome = await _transport(client).send(_job(f"http://127.0.0.1:{port}/"))
    assert not outcome.succeeded and outcome.status_code is None
    assert outcome.error is not None and outcome.error.startswith("connection: ConnectError")


async def test_a_connection_reset_mid_answer_is_a_connection_error() -> None:
    async def half_an_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
        await writer.drain()
        writer.transport.abort()

    async with _server(half_an_answer) as port, create_webhook_client(LOOPBACK) as client:
        outcome = await _transport(client).send(_job(f"http://127.0.0.1:{port}/"))
    assert not outcome.succeeded
    assert outcome.error is not None and outcome.error.startswith("connection: ")


@pytest.mark.parametrize("url", ["http://user:pw@127.0.0.1:9/", "ftp://127.0.0.1/"])
async def test_the_direct_path_refuses_what_the_client_refuses(url: str) -> None:
    async with create_webhook_client(LOOPBACK) as client:
        outcome = await _transport(client).send(_job(url))
    assert outcome.error is not None and outcome.error.startswith("blocked_ip: ")


class _Counting:
    """A receiver answering 204 that counts its connections and notices them closing."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed = 0
        self.requests = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.opened += 1
        while await _read_request(reader) is not None:
            self.requests += 1
            await asyncio.sleep(0.01)  # long enough for concurrent posts to overlap
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
        self.closed += 1
        writer.close()


async def _settle(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)


async def test_posts_reuse_as_many_connections_as_were_in_flight_at_once() -> None:
    receiver = _Counting()
    async with _server(receiver) as port, create_webhook_client(LOOPBACK) as client:
        sender = _transport(client)
        url = f"http://127.0.0.1:{port}/"
        burst = await asyncio.gather(*(sender.send(_job(url)) for _ in range(4)))
        after = [await sender.send(_job(url)) for _ in range(6)]
        assert all(o.succeeded for o in [*burst, *after])
        assert (receiver.opened, receiver.requests, receiver.closed) == (4, 10, 0)
    # Closing the client closes what it kept.
    await _settle(lambda: receiver.closed == 4)
    assert receiver.closed == 4


async def test_idle_connections_beyond_the_keep_alive_limits_are_closed() -> None:
    first, second = _Counting(), _Counting()
    limits = httpx.Limits(max_keepalive_connections=2, keepalive_expiry=0.2)
    async with (
        _server(first) as first_port,
        _server(second) as second_port,
        create_webhook_client(LOOPBACK, limits=limits) as client,
    ):
        sender = _transport(client)
        burst = await asyncio.gather(
            *(sender.send(_job(f"http://127.0.0.1:{first_port}/")) for _ in range(3))
        )
        assert all(o.succeeded for o in burst)
        # Three were open at once; two may be kept.
        await _settle(lambda: first.closed == 1)
        assert (first.opened, first.closed) == (3, 1)
        # An origin no longer posted to loses its connections once they expire.
        await asyncio.sleep(0.3)
        assert (await sender.send(_job(f"http://127.0.0.1:{second_port}/"))).succeeded
        await _settle(lambda: first.closed == 3)
        assert first.closed == 3
        assert (second.opened, second.closed) == (1, 0)


async def test_any_other_client_is_used_as_it_is_and_read_the_same_way() -> None:
    """A client that is not the guarded one (a test's, a host's) still gets the signed request,
    and its answer is classified as the direct path's is."""
    seen: list[httpx.Request] = []

    def busy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            429, headers={"Retry-After": "120"}, stream=httpx.ByteStream(b"z" * 5000)
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(busy)) as client:
        outcome = await _transport(client).send(_job("https://receiver.example/hook"))
    assert (outcome.succeeded, outcome.status_code, outcome.error) == (
        False,
        429,
        "http: status 429",
    )
    assert outcome.overloaded and outcome.retry_after == dt.timedelta(seconds=120)
    assert outcome.excerpt == "z" * 1024
    assert seen[0].headers["webhook-signature"].startswith("v1,")
