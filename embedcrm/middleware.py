"""Pure ASGI middleware (no BaseHTTPMiddleware: it leaks pooled connections on cancellation)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import time
import uuid
import warnings
from collections.abc import Callable

from asgi_correlation_id import correlation_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from embedcrm.metrics import REQUEST_SECONDS, Series

log = logging.getLogger("embedcrm.http")


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse a body over the limit of its route with 413, before it is buffered.

    A declared Content-Length over the limit is refused at once; a chunked or lying body is
    counted as it streams in and cut off at the limit.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await _too_large(send, limit, scope["path"])
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit, scope["path"])


async def _too_large(send: Send, limit: int, path: str) -> None:
    code, message = "payload_too_large", f"The body is over {limit} bytes."
    # /graphql answers every error in the GraphQL shape (embedcrm.graphql.http).
    shape: dict[str, object] = (
        {"errors": [{"message": message, "extensions": {"code": code}}]}
        if path.startswith("/graphql")
        else {"error": {"code": code, "message": message}}
    )
    body = json.dumps(shape).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# A caller's X-Request-ID is kept when it is this sane: short, and nothing that could forge a
# log line or a header. Otherwise, and when there is none, the request gets a fresh id.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def sane_request_id(value: str) -> bool:
    return _SANE_REQUEST_ID.fullmatch(value) is not None


class RequestId:
    """Every answer carries X-Request-ID: the caller's when it is sane, else a new one, which
    also replaces the caller's in the request's headers. The id is ``correlation_id`` (the
    context variable every log line of the request reads it from, embedcrm/logs.py) for the
    request's life. asgi_correlation_id's middleware did this with header objects made for every
    request and every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = sent.decode("latin-1") if sent else ""
        if not sane_request_id(request_id):
            request_id = uuid.uuid4().hex
            if sent:
                log.warning("the request id sent is not sane: %s replaces it", request_id)
            sent = request_id.encode()
            scope["headers"] = [
                *((k, v) for k, v in scope["headers"] if k != b"x-request-id"),
                (b"x-request-id", sent),
            ]
        correlation_id.set(request_id)
        header = (b"x-request-id", sent)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)


class RequestMetrics:
    """Time every request into a histogram labelled by its route's template, never the path.

    Placed inside the router's reach (innermost), so ``scope["route"]`` is set by the time the
    answer starts; a path no route matches is counted as ``unmatched``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series = Series(REQUEST_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            series = self._series(template, scope["method"], str(status))
            series.observe(time.perf_counter() - started)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 192.0.2.7"`` -> networks; a bare address is a network of one."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",")
        if part.strip()
    )


def _hop_address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """One hop of X-Forwarded-For or of a ``for=`` in Forwarded, without port or brackets."""
    value = raw.strip().strip('"')
    if value.startswith("["):  # "[2001:db8::1]:4711"
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # "192.0.2.1:4711"
        value = value.partition(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None  # "unknown", an obfuscated identifier, or garbage


def _forwarded_hops(headers: list[tuple[bytes, bytes]]) -> list[str] | None:
    """The client chain a proxy reported, nearest last; Forwarded (RFC 7239) wins over XFF."""
    forwarded = [v.decode("latin-1") for k, v in headers if k == b"forwarded"]
    if forwarded:
        hops = []
        for element in ",".join(forwarded).split(","):
            for pair in element.split(";"):
                name, _, value = pair.strip().partition("=")
                if name.lower() == "for":
                    hops.append(value)
        return hops
    xff = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
    if xff:
        return [hop for hop in ",".join(xff).split(",") if hop.strip()]
    return None


class ForwardedClient:
    """Take the visitor's address from trusted proxies' X-Forwarded-For or Forwarded headers.

    Only a peer inside ``trusted`` is believed, and its chain is read from the right: each hop
    that is itself a trusted proxy is skipped, and the first one that is not is the visitor.
    Hops to the left of it were written by the visitor and could say anything. Nobody is
    trusted by default, so per-visitor limits cannot be dodged by sending the header directly.
    """

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    def _is_trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] == "http" and scope.get("client"):
            peer = _hop_address(scope["client"][0])
            hops = _forwarded_hops(scope["headers"])
            if peer is not None and hops and self._is_trusted(peer):
                for raw in reversed(hops):
                    hop = _hop_address(raw)
                    if hop is None:
                        break  # an unreadable hop: keep the last address we can vouch for
                    scope = dict(scope, client=(str(hop), 0))
                    if not self._is_trusted(hop):
                        break
        await self.app(scope, receive, send)


# Cancelling a GraphQL execution part-way leaves the field coroutines graphql-core had created
# but not yet awaited; they hold nothing (no connection, no transaction) and are collected, but
# each would print a "never awaited" RuntimeWarning. Only the executor's own coroutines and
# strawberry's resolver wrapper are hushed; any other unawaited coroutine still warns.
UNAWAITED_AFTER_CANCEL = (
    r"coroutine '(Executor\.[\w.<>]+"
    r"|GraphQLCoreConverter\.from_resolver\.<locals>\._async_resolver)' was never awaited"
)
warnings.filterwarnings("ignore", message=UNAWAITED_AFTER_CANCEL, category=RuntimeWarning)


class CancelOnDisconnect:
    """Cancel the handler of a request whose client went away before the answer was complete.

    Servers do not do this for plain HTTP: the handler would run its queries to the end and
    hold its database connection for nobody. Messages from the client are read here, on a task
    of their own, and passed on to the handler; an ``http.disconnect`` before the response is
    complete cancels the handler, whose cleanup returns its connection to the pool.
    """

    def __init__(self, app: ASGIApp, applies_to: Callable[[str], bool]) -> None:
        self.app = app
        self.applies_to = applies_to

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies_to(scope["path"]):
            await self.app(scope, receive, send)
            return
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        responded = False
        client_gone = False

        async def tracking_send(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                responded = True
            await send(message)

        async def handle() -> None:
            await self.app(scope, inbox.get, tracking_send)

        handler = asyncio.create_task(handle())

        async def listen() -> None:
            nonlocal client_gone
            while True:
                message = await receive()
                inbox.put_nowait(message)
                if message["type"] == "http.disconnect":
                    if not responded and not handler.done():
                        client_gone = True
                        handler.cancel()
                    return

        listener = asyncio.create_task(listen())
        try:
            await asyncio.wait({handler})
        finally:
            listener.cancel()
            if not handler.done():  # this task itself was cancelled: take the handler along
                handler.cancel()
                await asyncio.wait({handler})
        if handler.cancelled():
            if not client_gone:
                raise asyncio.CancelledError
            log.info("client went away: %s %s cancelled", scope["method"], scope["path"])
            return
        handler.result()
