"""The SSRF guard: URL syntax, address classes, and the connect-time check (AT-11, AT-12).

No test here touches the network beyond 127.0.0.1: public addresses appear only as literals,
which are classified without a lookup, or as answers of a stubbed resolver.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from test_cli import last_line_of

from embedcrm.webhooks import ssrf
from embedcrm.webhooks.ssrf import (
    SafeTransport,
    UnsafeWebhookTarget,
    check_url_syntax,
    create_webhook_client,
    guarded_transport,
    is_forbidden_address,
    parse_allowed_networks,
    resolve_safe_addresses,
    validate_webhook_url,
)

LOOPBACK = parse_allowed_networks("127.0.0.0/8")

BLOCKED_URLS = [
    "http://127.0.0.1/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://198.18.0.1/",
    "http://192.0.0.1/",
    "http://240.0.0.1/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://127.1/",
    "http://localhost/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:a00:1::]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "ftp://example.com/file",
    "gopher://example.com/",
    "file:///etc/passwd",
    "http://user:pw@example.com/",
    "http://user@93.184.216.34/",
    "http:///no-host",
    "//example.com/",
    "http://exa mple.com/",
    "http://%31%32%37.0.0.1/",
]


@pytest.mark.parametrize("url", BLOCKED_URLS)
async def test_blocked_urls_are_refused_with_an_empty_allowlist(url: str) -> None:
    with pytest.raises(UnsafeWebhookTarget):
        await validate_webhook_url(url, ())


@pytest.mark.parametrize(
    "url",
    ["http://93.184.216.34/", "https://93.184.216.34:8443/hooks?x=1", "http://[2606:4700::1111]/"],
)
async def test_public_literal_addresses_are_accepted(url: str) -> None:
    await validate_webhook_url(url, ())


async def test_loopback_is_accepted_when_allowlisted() -> None:
    await validate_webhook_url("http://127.0.0.1:8080/hooks", LOOPBACK)
    await validate_webhook_url("http://2130706433/", LOOPBACK)
    await validate_webhook_url("http://[::ffff:127.0.0.1]/", LOOPBACK)
    with pytest.raises(UnsafeWebhookTarget):
        await validate_webhook_url("http://10.0.0.1/", LOOPBACK)


async def test_a_single_host_allowlist_admits_only_that_host() -> None:
    allowed = parse_allowed_networks("127.0.0.1/32")
    await validate_webhook_url("http://127.0.0.1:9000/", allowed)
    with pytest.raises(UnsafeWebhookTarget):
        await validate_webhook_url("http://127.0.0.2:9000/", allowed)


async def test_production_can_require_https() -> None:
    with pytest.raises(UnsafeWebhookTarget, match="https"):
        await validate_webhook_url("http://93.184.216.34/", (), require_https=True)
    await validate_webhook_url("https://93.184.216.34/", (), require_https=True)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://user:pw@example.com/", "user name"),
        ("http:///path", "no host"),
    ],
)
def test_syntax_errors_say_what_is_wrong(url: str, reason: str) -> None:
    with pytest.raises(UnsafeWebhookTarget, match=reason):
        check_url_syntax(url)


def test_syntax_accepts_plain_https() -> None:
    check_url_syntax("https://hooks.example.com:8443/crm?token=abc")
    check_url_syntax("https://xn--80ak6aa92e.com/")


def test_unsafe_target_is_a_value_error() -> None:
    assert issubclass(UnsafeWebhookTarget, ValueError)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "0.0.0.0",
        "10.1.2.3",
        "100.127.255.254",
        "169.254.169.254",
        "172.31.255.255",
        "192.0.0.9",
        "192.0.2.1",
        "192.168.0.1",
        "198.19.255.255",
        "203.0.113.5",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:c0a8:101::",
        "2001:db8::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "not an address",
    ],
)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(address, ())


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "::ffff:93.184.216.34", "2002:5db8:d822::", "2606:4700::1111"],
)
def test_public_addresses(address: str) -> None:
    assert not is_forbidden_address(address, ())


def test_allowlist_covers_mapped_forms() -> None:
    assert not is_forbidden_address(ipaddress.ip_address("::ffff:127.0.0.1"), LOOPBACK)
    assert is_forbidden_address("::1", LOOPBACK)
    assert not is_forbidden_address("::1", parse_allowed_networks("::1/128"))


def test_parse_allowed_networks() -> None:
    assert parse_allowed_networks("") == ()
    assert parse_allowed_networks(" 127.0.0.0/8 , ,::1/128,10.0.0.1") == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("10.0.0.1/32"),
    )
    assert parse_allowed_networks("127.0.0.1/8") == (ipaddress.ip_network("127.0.0.0/8"),)
    with pytest.raises(ValueError, match="nonsense"):
        parse_allowed_networks("127.0.0.0/8,nonsense")


async def test_any_forbidden_answer_refuses_the_host() -> None:
    async def resolver(host: str, port: int) -> Sequence[str]:
        return ["93.184.216.34", "10.0.0.5"]

    with pytest.raises(UnsafeWebhookTarget, match=r"10\.0\.0\.5"):
        await resolve_safe_addresses("mixed.test", 443, (), resolver=resolver)


async def test_unresolvable_host_is_refused_at_creation() -> None:
    async def resolver(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(UnsafeWebhookTarget, match="cannot resolve"):
        await validate_webhook_url("https://nowhere.test/", (), resolver=resolver)


async def test_public_answers_are_returned() -> None:
    async def resolver(host: str, port: int) -> Sequence[str]:
        return ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]

    assert await resolve_safe_addresses("example.test", 443, (), resolver=resolver) == [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
    ]


@dataclass
class LoopbackServer:
    """A tiny HTTP server on 127.0.0.1 that records every connection it accepts."""

    port: int = 0
    connections: int = 0
    host_headers: list[str] = field(default_factory=list)
    status_line: str = "200 OK"
    extra_headers: str = ""


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    state = LoopbackServer()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "host":
                    state.host_headers.append(value.strip())
            writer.write(
                f"HTTP/1.1 {state.status_line}\r\nContent-Length: 2\r\n{state.extra_headers}"
                "Connection: close\r\n\r\nok".encode()
            )
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.port = listener.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        listener.close()
        await listener.wait_closed()


async def test_transport_refuses_loopback_with_an_empty_allowlist(server: LoopbackServer) -> None:
    async with httpx.AsyncClient(transport=SafeTransport(()), trust_env=False) as client:
        with pytest.raises(UnsafeWebhookTarget):
            await client.post(f"http://127.0.0.1:{server.port}/hook", content=b"{}")
    await asyncio.sleep(0.05)
    assert server.connections == 0


async def test_transport_refuses_legacy_literal_forms(server: LoopbackServer) -> None:
    async with create_webhook_client(()) as client:
        for host in ("2130706433", "0x7f.1", "[::ffff:127.0.0.1]"):
            with pytest.raises(UnsafeWebhookTarget):
                await client.post(f"http://{host}:{server.port}/hook", content=b"{}")
    await asyncio.sleep(0.05)
    assert server.connections == 0


async def test_transport_connects_when_loopback_is_allowed(server: LoopbackServer) -> None:
    async with create_webhook_client(LOOPBACK) as client:
        response = await client.post(f"http://127.0.0.1:{server.port}/hook", content=b"{}")
    assert response.status_code == 200
    assert response.text == "ok"
    assert server.connections == 1


async def test_connect_time_resolution_closes_the_rebinding_window(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    lookups: list[str] = []

    async def rebinding_resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    monkeypatch.setattr(ssrf, "system_resolver", rebinding_resolver)
    url = f"http://hook.test:{server.port}/hook"

    await validate_webhook_url(url, ())  # creation time: a public address
    async with create_webhook_client(()) as client:
        with pytest.raises(UnsafeWebhookTarget, match=r"127\.0\.0\.1"):
            await client.post(url, content=b"{}")  # delivery time: rebound to loopback

    await asyncio.sleep(0.05)
    assert lookups == ["hook.test", "hook.test"]
    assert server.connections == 0


async def test_connection_goes_to_the_validated_address_with_the_original_host(
    server: LoopbackServer,
) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        assert host == "hook.test"
        return ["127.0.0.1"]

    async with create_webhook_client(LOOPBACK, resolver=resolver) as client:
        response = await client.post(f"http://hook.test:{server.port}/hook", content=b"{}")
    assert response.status_code == 200
    assert server.host_headers == [f"hook.test:{server.port}"]


async def test_redirects_are_not_followed(server: LoopbackServer) -> None:
    server.status_line = "302 Found"
    server.extra_headers = "Location: http://169.254.169.254/latest/meta-data/\r\n"
    async with create_webhook_client(LOOPBACK) as client:
        response = await client.post(f"http://127.0.0.1:{server.port}/hook", content=b"{}")
    assert response.status_code == 302
    assert server.connections == 1


async def test_lookup_failure_at_delivery_is_a_connect_error() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async with create_webhook_client((), resolver=resolver) as client:
        with pytest.raises(httpx.ConnectError, match="cannot resolve"):
            await client.post("https://gone.test/hook", content=b"{}")


async def test_transport_refuses_non_http_schemes() -> None:
    transport = SafeTransport(LOOPBACK)
    try:
        with pytest.raises(UnsafeWebhookTarget, match="scheme"):
            await transport.handle_async_request(httpx.Request("GET", "ftp://127.0.0.1/"))
    finally:
        await transport.aclose()


async def test_only_the_clients_made_for_webhooks_are_taken_for_guarded_ones() -> None:
    made = create_webhook_client()
    transport = guarded_transport(made)
    assert isinstance(transport, SafeTransport)
    # A client built by hand around the same kind of transport may carry mounts or settings
    # the guard does not know of: it keeps httpx's own path, which still ends in the transport.
    by_hand = httpx.AsyncClient(transport=SafeTransport(()), trust_env=False)
    assert guarded_transport(by_hand) is None
    await by_hand.aclose()
    await made.aclose()


# Run in an interpreter of its own: the full collection it needs would otherwise also collect
# what other tests of this process left, and answer for them.
_FORGOTTEN_CLIENT = """
import asyncio, gc, json, weakref
from embedcrm.webhooks.ssrf import _GUARDED, create_webhook_client, guarded_transport

async def main():
    made = create_webhook_client()
    assert guarded_transport(made) is not None
    await made.aclose()
    return weakref.ref(made)

watched = asyncio.run(main())
gc.collect()
print(json.dumps([watched() is None, len(_GUARDED)]))
"""


def test_the_registry_of_guarded_clients_keeps_none_alive(tmp_path: Path) -> None:
    assert last_line_of(_FORGOTTEN_CLIENT, tmp_path) == [True, 0]
