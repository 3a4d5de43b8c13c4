"""Send: one job out over the network, ``send(job) -> Outcome``, with no transaction open.

A transport knows one kind of job and its wire; claiming, leasing, retrying and recording
are the same for every kind (``claim``, ``record``). ``WebhookTransport`` signs a webhook
request and POSTs it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, TypeVar

import httpcore
import httpx

from embedcrm.webhooks.jobs import Clock, Job, Outcome
from embedcrm.webhooks.retry import retry_after_seconds
from embedcrm.webhooks.signing import signature_header
from embedcrm.webhooks.ssrf import Answer, UnsafeWebhookTarget, first_bytes, guarded_transport

RESPONSE_EXCERPT_BYTES = 1024
# A Retry-After beyond this is treated as this: a receiver cannot park a message for weeks.
MAX_RETRY_AFTER = timedelta(hours=24)
USER_AGENT = "embedcrm-webhooks/1"
USER_AGENT_BYTES = USER_AGENT.encode("ascii")
# Answers that mean "too much at once" rather than "this message is wrong".
OVERLOAD_STATUSES = frozenset({429, 502, 503, 504})
# httpcore's own, met on the direct path: the connection failed or the exchange broke off.
CONNECTION_ERRORS = (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol)

J_contra = TypeVar("J_contra", bound=Job, contravariant=True)


class Transport(Protocol[J_contra]):
    async def send(self, job: J_contra) -> Outcome:
        """Deliver ``job`` once; a receiver's fault is an unsuccessful outcome, never raised."""
        ...


@dataclass(frozen=True, kw_only=True)
class WebhookJob(Job):
    """A claimed webhook delivery with everything needed to sign and send it."""

    url: str
    # Opened: in memory only, and kept out of every repr (and so of every log line).
    secrets: tuple[str, ...] = field(repr=False)
    message_id: str
    event_id: uuid.UUID
    event_type: str
    body: bytes
    platform: bool


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent: the stored event as compact UTF-8 JSON, type first."""
    ordered = {"type": payload["type"], "timestamp": payload["timestamp"], "data": payload["data"]}
    return json.dumps(ordered, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


class WebhookTransport:
    """Signed webhook requests over one shared HTTP client (which guards against SSRF).

    Through the guarded client of ``create_webhook_client`` a request goes to its connection
    pool directly (``SafeTransport.post``); any other client, such as a test's, is used as it is.
    """

    def __init__(self, client: httpx.AsyncClient, *, clock: Clock, timeout: float) -> None:
        self.client = client
        self.clock = clock
        self.timeout = timeout
        self._guarded = guarded_transport(client)
        self._timeouts = client.timeout.as_dict()

    async def send(self, job: WebhookJob) -> Outcome:
        """One HTTP request, with no transaction open. Never raises for a receiver's fault."""
        attempted_at = self.clock()
        timestamp = int(attempted_at.timestamp())
        headers = [
            (b"content-type", b"application/json"),
            (b"user-agent", USER_AGENT_BYTES),
            (b"webhook-id", job.message_id.encode("ascii")),
            (b"webhook-timestamp", str(timestamp).encode("ascii")),
            (
                b"webhook-signature",
                signature_header(job.secrets, job.message_id, timestamp, job.body).encode("ascii"),
            ),
        ]
        outcome = Outcome(attempted_at=attempted_at)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                if self._guarded is not None:
                    answer = await self._guarded.post(
                        job.url,
                        headers,
                        job.body,
                        timeouts=self._timeouts,
                        read_at_most=RESPONSE_EXCERPT_BYTES,
                    )
                else:
                    answer = await self._through_client(job.url, headers, job.body)
            outcome.status_code = answer.status
            outcome.excerpt = answer.excerpt.decode("utf-8", "replace")
            classify(outcome, answer)
        except UnsafeWebhookTarget as exc:
            outcome.error = f"blocked_ip: {exc}"
        except (httpx.TimeoutException, httpcore.TimeoutException, TimeoutError):
            outcome.error = "timeout: no answer in time"
            outcome.overloaded = True
        except (httpx.HTTPError, *CONNECTION_ERRORS) as exc:
            outcome.error = f"connection: {type(exc).__name__}: {exc}"[:500]
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        return outcome

    async def _through_client(
        self, url: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Answer:
        async with self.client.stream("POST", url, content=body, headers=headers) as response:
            excerpt = await first_bytes(response.aiter_raw(), RESPONSE_EXCERPT_BYTES)
            return Answer(response.status_code, response.headers.raw, excerpt)


def classify(outcome: Outcome, answer: Answer) -> None:
    """Read a receiver's answer into ``outcome``: success, retry later, slow down, or gone."""
    code = answer.status
    if 200 <= code < 300:
        outcome.succeeded = True
        return
    if 300 <= code < 400:
        # Never followed: the target was validated, the Location was not.
        location = answer.header("location") or ""
        outcome.error = f"redirect: {code} to {location[:200]!r} not followed"
        return
    outcome.error = f"http: status {code}"
    outcome.overloaded = code in OVERLOAD_STATUSES
    if code == 410:
        outcome.gone = True
    if code in (429, 503):
        seconds = retry_after_seconds(answer.header("retry-after"), now=outcome.attempted_at)
        if seconds is not None:
            outcome.retry_after = min(timedelta(seconds=seconds), MAX_RETRY_AFTER)
