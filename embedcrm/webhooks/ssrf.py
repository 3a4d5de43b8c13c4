"""Keeping webhook deliveries away from internal networks (SSRF).

A webhook URL is chosen by a tenant, so without a guard it would let anyone make this service
call its own metadata endpoint, database or admin panels. Two checks stop that:

* :func:`validate_webhook_url` when an endpoint is created or updated, so that a bad URL is
  refused with a clear message;
* :class:`SafeTransport` at every connection, because DNS may answer differently at delivery
  time (DNS rebinding). It resolves the host itself, validates every address and connects to a
  validated address, while TLS SNI, certificate checks and the ``Host`` header keep using the
  hostname.

Addresses inside ``EMBEDCRM_WEBHOOK_ALLOWED_NETWORKS`` are permitted although private, for
development and tests (e.g. ``127.0.0.0/8``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import time
import typing
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpcore
import httpx

from embedcrm.webhooks.network import AsyncioNetworkBackend

__all__ = [
    "Answer",
    "IPAddress",
    "IPNetwork",
    "Resolver",
    "SafeNetworkBackend",
    "SafeTransport",
    "UnsafeWebhookTarget",
    "check_url_syntax",
    "create_webhook_client",
    "first_bytes",
    "guarded_transport",
    "is_forbidden_address",
    "parse_allowed_networks",
    "resolve_safe_addresses",
    "system_resolver",
    "validate_webhook_url",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Resolves (host, port) to the IP address strings a TCP connection could go to.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_URL_LENGTH = 2048

# Ranges refused even where `ipaddress` calls them global, or in case a Python version's
# `is_global` table differs: defence in depth over the standard library's classification.
_BLOCKED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata endpoints
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments, including the NAT64 and DS-Lite hosts
        "192.0.2.0/24",
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast, which `is_global` reports as global
        "240.0.0.0/4",  # reserved, including 255.255.255.255
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible form
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/32",  # Teredo, whose embedded IPv4 is obfuscated
        "2001:db8::/32",
        "fc00::/7",  # unique local addresses
        "fe80::/10",
        "fec0::/10",  # deprecated site-local
        "ff00::/8",
    )
)

# Well-known NAT64 prefix: the last 32 bits are the IPv4 address actually reached.
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")

# Hostnames as they come out of httpx: lower-case ASCII (IDNA already applied).
_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$")

# Characters of the legacy IPv4 forms inet_aton accepts: 2130706433, 0x7f.1, 0177.0.0.1.
_LEGACY_IPV4_CHARS = frozenset("0123456789abcdefxABCDEFX.")

_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class UnsafeWebhookTarget(ValueError):
    """A webhook URL or address that this service refuses to send to."""

    def __init__(self, message: str) -> None:
        super().__init__(f"unsafe webhook target: {message}")
        self.reason = message


def parse_allowed_networks(value: str) -> tuple[IPNetwork, ...]:
    """Parse ``EMBEDCRM_WEBHOOK_ALLOWED_NETWORKS``: comma-separated CIDRs, blanks ignored.

    A bare address means that address alone; host bits are masked (``127.0.0.1/8`` is
    ``127.0.0.0/8``). An invalid entry raises ValueError naming it, so a typo fails at start-up
    instead of silently blocking or permitting deliveries.
    """
    networks: list[IPNetwork] = []
    for item in value.split(","):
        entry = item.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"invalid network in webhook allowlist: {entry!r}") from exc
    return tuple(networks)


def _parse_address(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, including the legacy forms resolvers accept."""
    candidate = host.removeprefix("[").removesuffix("]")
    address = _parse_address(candidate)
    if address is not None:
        return address
    # getaddrinfo would turn these into addresses too; parsing them here keeps the check
    # independent of the resolver and of any DNS server.
    if candidate and set(candidate) <= _LEGACY_IPV4_CHARS and candidate[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(candidate))
        except OSError:
            return None
    return None


def _effective_address(address: IPAddress) -> IPAddress:
    """The IPv4 address behind IPv4-mapped, 6to4 and NAT64 IPv6 forms, else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64_PREFIX:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_forbidden_address(ip: IPAddress | str, allowed: Iterable[IPNetwork] = ()) -> bool:
    """Return True unless ``ip`` is a public unicast address or lies in ``allowed``.

    IPv4-mapped, 6to4 and NAT64 addresses are judged by the IPv4 address they reach. An
    unparseable value is forbidden.
    """
    address = _parse_address(ip) if isinstance(ip, str) else ip
    if address is None:
        return True
    effective = _effective_address(address)
    for network in allowed:
        if address in network or effective in network:
            return False
    if (
        not effective.is_global
        or effective.is_private
        or effective.is_loopback
        or effective.is_link_local
        or effective.is_multicast
        or effective.is_reserved
        or effective.is_unspecified
    ):
        return True
    if isinstance(effective, ipaddress.IPv6Address) and effective.is_site_local:
        return True
    return any(effective in network for network in _BLOCKED_NETWORKS)


def _parse_target(url: str, *, require_https: bool) -> tuple[str, int]:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookTarget(f"URL longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in url):
        raise UnsafeWebhookTarget("URL contains whitespace or control characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise UnsafeWebhookTarget("URL cannot be parsed") from exc
    scheme = parsed.scheme
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeWebhookTarget(f"scheme {scheme or '(none)'!r} is not http or https")
    if require_https and scheme != "https":
        raise UnsafeWebhookTarget("only https URLs are accepted")
    if parsed.userinfo:
        # Credentials in the URL would be sent to the receiver and shown in delivery logs.
        raise UnsafeWebhookTarget("URL must not contain a user name or password")
    host = parsed.raw_host.decode("ascii", errors="replace")
    if not host:
        raise UnsafeWebhookTarget("URL has no host")
    if _parse_address(host) is None and (len(host) > 253 or not _HOSTNAME.match(host)):
        raise UnsafeWebhookTarget(f"invalid host {host!r}")
    port = parsed.port if parsed.port is not None else (443 if scheme == "https" else 80)
    return host, port


def check_url_syntax(url: str, *, require_https: bool = False) -> None:
    """Refuse a URL that is not plain http(s) with a host and without credentials.

    ``require_https`` is for production configurations where plain http is refused too.
    Raises :class:`UnsafeWebhookTarget`.
    """
    _parse_target(url, require_https=require_https)


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the event loop's ``getaddrinfo``; the default resolver."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def _resolve(host: str, port: int, resolver: Resolver | None) -> list[IPAddress]:
    """Addresses ``host`` reaches; OSError when it does not resolve."""
    literal = _literal_address(host)
    if literal is not None:
        return [literal]
    # Looked up at call time so that a replaced module-level resolver takes effect everywhere.
    answers = await (resolver or system_resolver)(host, port)
    addresses: list[IPAddress] = []
    for answer in answers:
        address = _parse_address(answer)
        if address is None:
            raise UnsafeWebhookTarget(f"{host!r} resolved to an unparseable address")
        addresses.append(address)
    if not addresses:
        raise OSError(f"{host!r} has no addresses")
    return addresses


def _vet(host: str, addresses: Sequence[IPAddress], allowed: Iterable[IPNetwork]) -> list[str]:
    networks = tuple(allowed)
    for address in addresses:
        # One bad answer is enough: which record a connection uses is not ours to choose.
        if is_forbidden_address(address, networks):
            if _literal_address(host) is not None:
                raise UnsafeWebhookTarget(f"address {address} is not publicly routable")
            raise UnsafeWebhookTarget(f"{host!r} resolves to non-public address {address}")
    return [str(address) for address in addresses]


async def resolve_safe_addresses(
    host: str,
    port: int,
    allowed: Iterable[IPNetwork],
    *,
    resolver: Resolver | None = None,
) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing it if any address is forbidden.

    Literal addresses, including legacy forms such as ``2130706433`` and ``0x7f.1``, are
    checked without a lookup. Raises :class:`UnsafeWebhookTarget`, also when the host does not
    resolve.
    """
    try:
        addresses = await _resolve(host, port, resolver)
    except (OSError, UnicodeError) as exc:
        raise UnsafeWebhookTarget(f"cannot resolve host {host!r}") from exc
    return _vet(host, addresses, allowed)


async def validate_webhook_url(
    url: str,
    allowed: Iterable[IPNetwork],
    *,
    require_https: bool = False,
    resolver: Resolver | None = None,
) -> None:
    """Check a webhook URL when an endpoint is created or updated.

    Combines :func:`check_url_syntax` with :func:`resolve_safe_addresses`. Deliveries are
    checked again at connect time by :class:`SafeTransport`, since DNS can change in between.
    """
    host, port = _parse_target(url, require_https=require_https)
    await resolve_safe_addresses(host, port, allowed, resolver=resolver)


class SafeNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to validated addresses.

    ``connect_tcp`` resolves the host itself, refuses it with :class:`UnsafeWebhookTarget` if
    any address is forbidden, then connects to a validated IP. httpcore starts TLS on the
    returned stream with the original hostname, so SNI and certificate checks are unchanged.
    """

    def __init__(
        self,
        allowed: Iterable[IPNetwork] = (),
        *,
        resolver: Resolver | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allowed = tuple(allowed)
        self._resolver = resolver
        self._backend = backend if backend is not None else AsyncioNetworkBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        # The signature is httpcore's interface, which passes the connect timeout this way.
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve and validate ``host``, then connect to the first reachable address."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            async with asyncio.timeout(timeout):
                addresses = await _resolve(host, port, self._resolver)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host!r} timed out") from exc
        except (OSError, UnicodeError) as exc:
            # A lookup failure is an ordinary, retryable connection failure, not a refusal.
            raise httpcore.ConnectError(f"cannot resolve host {host!r}: {exc}") from exc
        validated = _vet(host, addresses, self._allowed)

        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in validated:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await self._backend.connect_tcp(
                    address,
                    port,
                    timeout=remaining,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # validated is never empty
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refuse: a Unix socket is always local."""
        raise UnsafeWebhookTarget("Unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        """Sleep between connection retries, delegating to the wrapped backend."""
        await self._backend.sleep(seconds)


class _GuardedHTTPTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connection pool uses :class:`SafeNetworkBackend`.

    No proxy and no Unix socket: either would move the connection out of the guard's sight.
    """

    def __init__(
        self,
        network_backend: SafeNetworkBackend,
        *,
        verify: ssl.SSLContext | bool,
        trust_env: bool,
        http1: bool,
        http2: bool,
        limits: httpx.Limits,
        retries: int,
        local_address: str | None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> None:
        super().__init__(verify=verify, trust_env=trust_env, http1=http1, http2=http2)
        self._pool = self.pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=trust_env),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=http1,
            http2=http2,
            retries=retries,
            local_address=local_address,
            socket_options=socket_options,
            network_backend=network_backend,
        )


class _KeptConnections:
    """Keep-alive connections for :meth:`SafeTransport.post`, by origin.

    A post takes an idle connection to its origin or opens one, and gives it back when its
    answer is read. Every caller already bounds how many requests it has in flight (the
    dispatcher's sending slots), so no more is needed than httpcore's connection and a list of
    the idle ones: its pool would look over every connection at each request, twice.
    """

    def __init__(
        self,
        network: SafeNetworkBackend,
        *,
        ssl_context: ssl.SSLContext,
        keep: int | None,
        expiry: float | None,
        local_address: str | None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> None:
        self._network = network
        self._ssl_context = ssl_context
        self._keep = 20 if keep is None else keep
        self._expiry = expiry
        self._local_address = local_address
        self._socket_options = socket_options
        # By scheme, host and port: httpcore's Origin compares equal but does not hash.
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}
        self._idle_count = 0
        self._next_sweep = 0.0

    async def take(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        idle = self._idle.get((origin.scheme, origin.host, origin.port))
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            # Expired: idle too long, or the receiver closed it or sent something meanwhile.
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()
        return httpcore.AsyncHTTPConnection(
            origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._expiry,
            local_address=self._local_address,
            network_backend=self._network,
            socket_options=self._socket_options,
        )

    async def give_back(
        self, origin: httpcore.Origin, connection: httpcore.AsyncHTTPConnection
    ) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            # Origins no longer posted to would keep their connections open for good.
            self._next_sweep = now + (self._expiry or 5.0)
            await self._close_expired()
        if not connection.is_idle() or self._idle_count >= self._keep:
            await connection.aclose()
            return
        self._idle.setdefault((origin.scheme, origin.host, origin.port), []).append(connection)
        self._idle_count += 1

    async def _close_expired(self) -> None:
        for key, idle in list(self._idle.items()):
            alive = []
            for connection in idle:
                if connection.has_expired():
                    await connection.aclose()
                else:
                    alive.append(connection)
            self._idle_count -= len(idle) - len(alive)
            if alive:
                self._idle[key] = alive
            else:
                del self._idle[key]

    async def aclose(self) -> None:
        idle, self._idle, self._idle_count = self._idle, {}, 0
        for connections in idle.values():
            for connection in connections:
                await connection.aclose()


async def first_bytes(chunks: typing.AsyncIterable[bytes], at_most: int) -> bytes:
    """The first ``at_most`` bytes of a body, read no further: a receiver's answer may be
    endless."""
    read = bytearray()
    async for chunk in chunks:
        read += chunk
        if len(read) >= at_most:
            break
    return bytes(read[:at_most])


def _check_scheme_and_userinfo(url: httpx.URL) -> None:
    if url.scheme not in ALLOWED_SCHEMES:
        raise UnsafeWebhookTarget(f"scheme {url.scheme!r} is not http or https")
    if url.userinfo:
        raise UnsafeWebhookTarget("URL must not contain a user name or password")


@dataclass(frozen=True)
class _PostTarget:
    """A URL as httpx would put it on the wire: IDNA applied, the Host header it sends."""

    url: httpcore.URL
    host: bytes

    @classmethod
    def of(cls, url: str) -> _PostTarget:
        parsed = httpx.URL(url)
        _check_scheme_and_userinfo(parsed)
        return cls(
            httpcore.URL(
                scheme=parsed.raw_scheme,
                host=parsed.raw_host,
                port=parsed.port,
                target=parsed.raw_path,
            ),
            parsed.netloc,
        )


@dataclass(frozen=True)
class Answer:
    """A receiver's answer: its status, its headers as sent, the first bytes of its body."""

    status: int
    headers: Sequence[tuple[bytes, bytes]]
    excerpt: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("ascii")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None


class SafeTransport(httpx.AsyncBaseTransport):
    """An httpx transport for webhook deliveries that cannot reach forbidden addresses.

    Every new connection is resolved and validated at connect time (see
    :class:`SafeNetworkBackend`), which closes the DNS-rebinding window between endpoint
    validation and delivery. A refused connection raises :class:`UnsafeWebhookTarget`, which is
    not an ``httpx`` exception, so the dispatcher can record it as a blocked target.

    Use it through :func:`create_webhook_client`, or with ``follow_redirects=False`` and
    ``trust_env=False`` on the client: environment proxies would otherwise be mounted in front
    of this transport.
    """

    def __init__(
        self,
        allowed: Iterable[IPNetwork] = (),
        *,
        resolver: Resolver | None = None,
        verify: ssl.SSLContext | bool = True,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        retries: int = 0,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allowed = tuple(allowed)
        self._targets: dict[str, _PostTarget] = {}
        network = SafeNetworkBackend(self._allowed, resolver=resolver, backend=network_backend)
        self._posts = _KeptConnections(
            network,
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=trust_env),
            keep=limits.max_keepalive_connections,
            expiry=limits.keepalive_expiry,
            local_address=local_address,
            socket_options=socket_options,
        )
        self._transport = _GuardedHTTPTransport(
            network,
            verify=verify,
            trust_env=trust_env,
            http1=http1,
            http2=http2,
            limits=limits,
            retries=retries,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` after a syntax check; the connection itself is checked on connect."""
        _check_scheme_and_userinfo(request.url)
        return await self._transport.handle_async_request(request)

    async def post(
        self,
        url: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        *,
        timeouts: dict[str, float | None],
        read_at_most: int,
    ) -> Answer:
        """POST ``body`` on a kept connection, reading at most ``read_at_most`` bytes of the
        answer: the same checks and guard as a request through the client, without httpx's
        request and response models or httpcore's pool, which together cost a delivery more
        CPU than the exchange on the wire. Raises httpcore's exceptions and
        :class:`UnsafeWebhookTarget`."""
        target = self._targets.get(url)
        if target is None:
            target = self._targets[url] = _PostTarget.of(url)
            if len(self._targets) > 4096:  # endpoints come and go; the cache must not grow
                self._targets.clear()
        request = httpcore.Request(
            b"POST",
            target.url,
            headers=[
                (b"host", target.host),
                (b"accept", b"*/*"),
                (b"content-length", str(len(body)).encode("ascii")),
                *headers,
            ],
            content=body,
            extensions={"timeout": timeouts},
        )
        connection = await self._posts.take(target.url.origin)
        try:
            response = await connection.handle_async_request(request)
            try:
                excerpt = await first_bytes(response.aiter_stream(), read_at_most)
            finally:
                await response.aclose()
        finally:
            await self._posts.give_back(target.url.origin, connection)
        return Answer(response.status, response.headers, excerpt)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._posts.aclose()
        await self._transport.aclose()


# The transport of each client ``create_webhook_client`` made, by client: httpx has no public
# way to read a client's transport back, and a client made otherwise (a test's, one with
# proxies mounted) is never taken for a guarded one.
_GUARDED: weakref.WeakKeyDictionary[httpx.AsyncClient, SafeTransport] = weakref.WeakKeyDictionary()


def guarded_transport(client: httpx.AsyncClient) -> SafeTransport | None:
    """The :class:`SafeTransport` a client sends everything through, if
    :func:`create_webhook_client` made it."""
    return _GUARDED.get(client)


def create_webhook_client(
    allowed: Iterable[IPNetwork] = (),
    *,
    timeout: httpx.Timeout | float = 15.0,
    resolver: Resolver | None = None,
    limits: httpx.Limits = _DEFAULT_LIMITS,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """Return an ``httpx.AsyncClient`` for webhook deliveries behind :class:`SafeTransport`.

    Redirects are never followed (a 3xx is a failed delivery, and following it would be a way
    around the guard) and the environment is ignored so that no proxy bypasses the transport.
    Cookies are never kept: one receiver must not be able to set what is sent to another.
    """
    transport = SafeTransport(allowed, resolver=resolver, limits=limits, verify=verify)
    client = httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )
    _GUARDED[client] = transport
    return client
