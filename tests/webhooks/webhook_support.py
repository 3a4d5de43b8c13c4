"""A real webhook receiver for tests: a raw ASGI app under uvicorn on 127.0.0.1, scripted per
test, verifying every request with the independent `standardwebhooks` package on the raw body."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import standardwebhooks.webhooks as swh
import uvicorn
from standardwebhooks.webhooks import Webhook


class FakeClock:
    """The dispatcher's clock, moved by the test instead of by waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def set(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


def frozen_datetime(clock: Callable[[], datetime]) -> type[datetime]:
    """A datetime class whose now() is the test clock, for the reference verifier's tolerance."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:  # type: ignore[override]
            moment = clock()
            return cls.fromtimestamp(moment.timestamp(), tz or UTC)

    return Frozen


@dataclass
class Received:
    message_id: str
    timestamp: int
    signature: str
    body: bytes
    verified_by: set[int]
    arrived: float
    path: str = "/"
    # The status the dispatcher saw: None when the reply came too late or the connection reset.
    status: int | None = None
    # Requests open at the receiver when this one arrived, itself included.
    open_on_arrival: int = 0
    cookie: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    sleep: float = 0.0
    reset: bool = False


Script = Callable[[Received, int], Reply | Awaitable[Reply]]


class Receiver:
    """Records and verifies every POST; ``script(request, n)`` decides the answer (n: how many
    times this webhook-id arrived, 1 the first time)."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self.secrets: list[str] = list(secrets or [])
        self.script: Script = lambda request, n: Reply()
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_request = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ids(self) -> list[str]:
        return [r.message_id for r in self.received]

    def verified(self) -> list[Received]:
        return [r for r in self.received if r.verified_by]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        verified: set[int] = set()
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body.decode(), headers)
                verified.add(index)
            except Exception:
                pass
        request = Received(
            message_id=headers.get("webhook-id", ""),
            timestamp=int(headers.get("webhook-timestamp", "0") or 0),
            signature=headers.get("webhook-signature", ""),
            body=body,
            verified_by=verified,
            arrived=time.monotonic(),
            path=scope["path"],
            cookie=headers.get("cookie"),
        )
        self.received.append(request)
        self.first_request.set()
        n = sum(1 for r in self.received if r.message_id == request.message_id)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        request.open_on_arrival = self.in_flight
        try:
            reply = self.script(request, n)
            if not isinstance(reply, Reply):
                reply = await reply
            if not reply.sleep and not reply.reset:
                request.status = reply.status
            if reply.sleep:
                await asyncio.sleep(reply.sleep)
            if reply.reset:
                _reset(send)
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": reply.status,
                    "headers": [(k.encode(), v.encode()) for k, v in reply.headers.items()],
                }
            )
            await send({"type": "http.response.body", "body": reply.body})
        finally:
            self.in_flight -= 1

    async def start(self) -> None:
        config = uvicorn.Config(
            self, host="127.0.0.1", port=0, log_level="error", lifespan="off", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(500):
            if self._server.started:
                break
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._server.force_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 5)


def _reset(send: Any) -> None:
    """Drop the connection with a TCP RST, like a crashing proxy would."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("cannot reach the connection to reset it")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


@contextlib.asynccontextmanager
async def running_receiver(secrets: list[str] | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver(secrets)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


def patch_verifier_clock(monkeypatch: Any, clock: Callable[[], datetime]) -> None:
    """Make the reference verifier judge timestamps against the test clock."""
    monkeypatch.setattr(swh, "datetime", frozen_datetime(clock))
