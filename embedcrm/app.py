"""create_app(settings) -> the Starlette application.

Each route is a module-level function that reads the services from ``request.app.state``;
expected errors are raised, never caught here, and turned into JSON bodies by the one handler
``create_app`` registers for ``EmbedCRMError``. /graphql is the exception: it answers every
error itself, in the GraphQL shape (embedcrm/graphql/http.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import strawberry
from asgi_correlation_id import correlation_id
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from embedcrm.auth import PanelUser, Principal
from embedcrm.capture.origin import origin_allowed
from embedcrm.config import Settings
from embedcrm.db import bound_to_workspace
from embedcrm.errors import (
    BadRequest,
    Conflict,
    EmbedCRMError,
    Forbidden,
    NotFound,
    OriginNotAllowed,
    PayloadTooLarge,
    RateLimited,
    RetryLater,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from embedcrm.feedback import pages as feedback_pages
from embedcrm.feedback_routes import FEEDBACK_ROUTES
from embedcrm.graphql.context import Context
from embedcrm.graphql.http import (
    GraphQLParams,
    PersistedQueries,
    PersistedQueryNotFound,
    TransportError,
    embedcrm_error_response,
    params_from_body,
    params_from_query_string,
    persisted_query_not_found,
    reads_only,
    response_media_type,
    result_response,
)
from embedcrm.graphql.http import error_response as graphql_error_response
from embedcrm.graphql.limits import ConcurrencyPerCredential
from embedcrm.graphql.loaders import Loaders
from embedcrm.graphql.schema import build_schema
from embedcrm.messages.pages import ask_page, done_page, invalid_page
from embedcrm.metrics import (
    CONTENT_TYPE_LATEST,
    OUTBOX_LAG,
    QUARANTINED,
    SUBMISSIONS,
    Series,
    exposition,
)
from embedcrm.middleware import (
    BodySizeLimit,
    BodyTooLarge,
    CancelOnDisconnect,
    ForwardedClient,
    RequestId,
    RequestMetrics,
    parse_networks,
)
from embedcrm.money_routes import MONEY_ROUTES, money_body_limit
from embedcrm.openapi import openapi_document
from embedcrm.panel_routes import PANEL_ROUTES, PanelCors
from embedcrm.services import Services, services_of
from embedcrm.static import script_response
from embedcrm.telemetry import instrument
from embedcrm.worker import run_background_jobs
from embedcrm.workspaces.models import Site

log = logging.getLogger("embedcrm.app")

# A mail client's one-click POST is one short form field; nothing bigger is read.
UNSUBSCRIBE_BODY_BYTES = 1024
# A score and a comment of at most 2 000 characters, form-encoded.
FEEDBACK_BODY_BYTES = 32 * 1024
# The unsubscribe pages name nobody, but their address is a person's token: kept out of caches
# and referrers.
PRIVATE_PAGE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

# The one place where error codes become HTTP statuses (ARCHITECTURE.md, rule 6).
STATUS_BY_ERROR: list[tuple[type[EmbedCRMError], int]] = [
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (ValidationFailed, 422),
    (BadRequest, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
]


def error_response(exc: EmbedCRMError, headers: dict[str, str] | None = None) -> JSONResponse:
    status = next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)), 400)
    headers = dict(headers or {})
    if isinstance(exc, RetryLater):
        status = 429 if exc.code == "rate_limited" else 503
        headers["Retry-After"] = str(exc.retry_after)
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.fields:
        body["fields"] = exc.fields
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def cors_headers(origin: str | None, allowed: bool) -> dict[str, str]:
    # Credentials are never allowed: the widget sends no cookies.
    headers = {"Vary": "Origin"}
    if allowed and origin:
        headers["Access-Control-Allow-Origin"] = origin
        # The widget reads Retry-After to pace its retries.
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return headers


class ASGIEndpoint:
    """Lets a plain ``async def (scope, receive, send)`` be a route of its own."""

    def __init__(self, handler: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(scope, receive, send)


def workspace_scope_of(principal: Principal) -> contextlib.AbstractContextManager[None]:
    """A panel member's transactions are bound to its workspace; a platform key reads every
    workspace by design (auth.Platform)."""
    if isinstance(principal, PanelUser):
        return bound_to_workspace(principal.workspace_id)
    return contextlib.nullcontext()


async def handle_error(request: Request, exc: Exception) -> Response:
    """The one handler of expected errors: each becomes a JSON body with its HTTP status.

    The public site routes answer with CORS headers, which let the page read the error when its
    origin is one of the site's domains. /graphql answers its own errors (embedcrm.graphql.http).
    """
    assert isinstance(exc, EmbedCRMError)
    headers: dict[str, str] = {}
    if request.url.path.startswith("/v1/sites/"):
        allowed = bool(getattr(request.state, "origin_allowed", False))
        headers.update(cors_headers(request.headers.get("origin"), allowed))
    return error_response(exc, headers)


async def site_of(request: Request) -> tuple[Site, bool]:
    """The origin rule, in one place: the site the path's key names, and whether the request's
    Origin is one of its domains. Remembered on the request, so that every answer, errors
    included, carries the CORS headers that follow from it."""
    return await _site_at(request.scope, request.headers.get("origin"))


async def _site_at(scope: Scope, origin: str | None) -> tuple[Site, bool]:
    services: Services = scope["app"].state.services
    site = await services.capture.site_for_key(scope["path_params"]["site_key"])
    allowed = origin_allowed(origin, site.domains)
    # Where request.state keeps what it is given: handle_error reads it back.
    scope.setdefault("state", {})["origin_allowed"] = allowed
    return site, allowed


async def allowed_site(request: Request) -> Site:
    """The site, if the request's Origin may send to it."""
    return await _allowed_site_at(request.scope, request.headers.get("origin"))


async def _allowed_site_at(scope: Scope, origin: str | None) -> Site:
    site, allowed = await _site_at(scope, origin)
    if not allowed:
        raise OriginNotAllowed("This origin may not send submissions to this site.")
    return site


async def graphql_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    response = await answer_graphql(request)
    await response(scope, receive, send)


async def answer_graphql(request: Request) -> Response:
    """/graphql: every refusal, the transport's or GraphQL's, in the one GraphQL error shape."""
    services = services_of(request)
    settings = services.settings
    media_type = response_media_type(request.headers.get("accept"))
    if request.method == "GET" and settings.graphiql and "query" not in request.query_params:
        # The IDE page itself needs no key. It is served before the credential is read.
        return HTMLResponse(request.app.state.graphiql_html)
    if request.method not in ("GET", "POST"):
        return graphql_error_response(
            media_type,
            405,
            "Use POST, or GET for a query.",
            "method_not_allowed",
            {"Allow": "GET, POST"},
        )
    try:
        principal = await _graphql_principal(request)
        params = await _graphql_params(request)
        params = request.app.state.persisted_queries.resolve(params)
    except TransportError as exc:
        return graphql_error_response(media_type, exc.status, exc.message, exc.code, exc.headers)
    except PersistedQueryNotFound:
        return persisted_query_not_found(media_type)
    except EmbedCRMError as exc:
        return _graphql_refusal(media_type, exc)
    concurrency: ConcurrencyPerCredential = request.app.state.graphql_concurrency
    schema: strawberry.Schema = request.app.state.graphql_schema
    context = Context(
        settings=settings,
        services=services,
        principal=principal,
        loaders=Loaders.create(services, principal),
        request_id=correlation_id.get() or "",
    )
    allowed = (
        {OperationType.QUERY}
        if request.method == "GET"
        else {OperationType.QUERY, OperationType.MUTATION}
    )
    try:
        # Past the credential's concurrency or with no connection to be had, RetryLater: 429
        # or 503 with Retry-After.
        # Row-level security, where the app's role is bound by it: a member's request sees its
        # own workspace's rows even where a query forgot to say so.
        with workspace_scope_of(principal):
            # A query's reads are one transaction; a mutation's writes keep theirs each.
            one_transaction = reads_only(
                params.query, params.operation_name, settings.graphql_max_tokens
            )
            async with (
                concurrency.slot(principal),
                services.db.one_connection(one_transaction=one_transaction),
            ):
                try:
                    result = await schema.execute(
                        params.query,
                        variable_values=params.variables,
                        context_value=context,
                        operation_name=params.operation_name,
                        allowed_operation_types=allowed,
                    )
                finally:
                    context.loaders.release()
    except RetryLater as exc:
        return _graphql_refusal(media_type, exc)
    except InvalidOperationTypeError:
        return graphql_error_response(
            media_type,
            405,
            "A GET runs queries only; send a mutation with POST.",
            "method_not_allowed",
            {"Allow": "POST"},
        )
    except CannotGetOperationTypeError as exc:
        return graphql_error_response(
            media_type, 400, exc.as_http_error_reason(), "graphql_validation_failed"
        )
    except MissingQueryError:
        return graphql_error_response(
            media_type, 400, "Send the operation in `query`.", "bad_request"
        )
    return result_response(media_type, result)


async def _graphql_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthenticated("Send Authorization: Bearer <platform key or panel token>.")
    return await services_of(request).workspaces.authenticate(credentials.strip())


async def _graphql_params(request: Request) -> GraphQLParams:
    if request.method == "GET":
        return params_from_query_string(request.query_params)
    try:
        body = await request.body()
    except BodyTooLarge as exc:
        limit = services_of(request).settings.max_graphql_bytes
        raise TransportError(413, "payload_too_large", f"The body is over {limit} bytes.") from exc
    return params_from_body(request.headers.get("content-type"), body)


def _graphql_refusal(media_type: str, exc: EmbedCRMError) -> Response:
    if isinstance(exc, RetryLater):
        status = 429 if exc.code == "rate_limited" else 503
    else:
        status = next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else {}
    return embedcrm_error_response(media_type, exc, status, headers)


async def submission_preflight(request: Request) -> Response:
    await allowed_site(request)
    headers = cors_headers(request.headers.get("origin"), allowed=True)
    headers.update(
        {
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "content-type, idempotency-key",
            "Access-Control-Max-Age": "600",
        }
    )
    return Response(status_code=204, headers=headers)


async def submit(scope: Scope, receive: Receive, send: Send) -> None:
    """POST /v1/sites/{site_key}/submissions, the busiest route, as a plain ASGI app: the body
    read from ``receive`` and the answer written as bytes, without a Request or a Response
    object (a tenth of accepting a submission went to them). Errors are raised as from any other
    route, and answered by ``handle_error`` with the same CORS headers."""
    origin = content_type = None
    for name, value in scope["headers"]:
        # The first of a repeated header, as Request.headers.get reads it.
        if name == b"origin" and origin is None:
            origin = value.decode("latin-1")
        elif name == b"content-type" and content_type is None:
            content_type = value.decode("latin-1")
    services: Services = scope["app"].state.services
    site = await _allowed_site_at(scope, origin)
    try:
        body = await _body_of(receive)
    except BodyTooLarge as exc:
        raise PayloadTooLarge(
            f"The body is over {services.settings.max_submission_bytes} bytes."
        ) from exc
    client = scope.get("client")
    try:
        accepted = await services.capture.accept(
            site,
            content_type=content_type,
            body=body,
            origin=origin,
            remote_ip=client[0] if client else None,
        )
    except RateLimited:
        submissions_counted("rate_limited", "").inc()
        raise
    except ServiceUnavailable:
        raise  # not an outcome: the widget sends it again
    except EmbedCRMError as exc:
        submissions_counted("refused", exc.code).inc()
        raise
    if accepted.repeated:
        submissions_counted("repeat", "").inc()
    elif accepted.quarantined:
        submissions_counted("quarantined", "").inc()
    else:
        submissions_counted("accepted", "").inc()
    # A submission id is letters, digits and ".:_-" (payload.py) or a generated UUID: nothing
    # in it needs escaping in JSON.
    answer = b'{"submission_id":"%s","status":"accepted"}' % accepted.submission_id.encode()
    assert origin is not None  # an allowed origin is never missing (origin_allowed)
    await send(
        {
            "type": "http.response.start",
            "status": 200 if accepted.repeated else 202,
            "headers": [
                *_ACCEPTED_HEADERS,
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"content-length", b"%d" % len(answer)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": answer})


# What every accepted submission's answer carries besides its origin and length: the headers
# cors_headers(origin, allowed=True) gives, as JSONResponse would write them.
_ACCEPTED_HEADERS = [
    (b"content-type", b"application/json"),
    (b"vary", b"Origin"),
    (b"access-control-expose-headers", b"Retry-After"),
]


async def _body_of(receive: Receive) -> bytes:
    """The whole body, as Request.body reads it (ClientDisconnect if the client goes first)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


# The submissions counter by outcome and error code.
submissions_counted = Series(SUBMISSIONS)


async def form_event(request: Request) -> Response:
    """A sampled view or start of a form, sent by the widget with sendBeacon (text/plain)."""
    site = await allowed_site(request)
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError, BodyTooLarge) as exc:
        raise BadRequest("Send one JSON object.") from exc
    services = services_of(request)
    await services.capture.limits.check_event(
        site.public_key, request.client.host if request.client else None
    )
    await services.analytics.count_form_event(site, body)
    return Response(status_code=204, headers=cors_headers(request.headers.get("origin"), True))


async def site_config(request: Request) -> Response:
    origin = request.headers.get("origin")
    site, allowed = await site_of(request)
    config = await services_of(request).capture.site_config(site, origin if allowed else None)
    headers = cors_headers(origin, allowed)
    # The form token inside is fresh per response: short private caching only.
    headers["Cache-Control"] = "private, max-age=60"
    return JSONResponse(config, headers=headers)


async def widget(request: Request) -> Response:
    asset = services_of(request).widget
    pinned = "version" in request.path_params
    if pinned and request.path_params["version"] != asset.version:
        raise NotFound("No widget has this version.")
    return script_response(asset, pinned=pinned)


async def widget_css(request: Request) -> Response:
    asset = services_of(request).widget_css
    return Response(
        asset.body,
        media_type=asset.media_type,
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


async def openapi_json(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


async def unsubscribe_page(request: Request) -> Response:
    """The unsubscribe link of a message: a page that asks, in the shop's language."""
    token = request.path_params["token"]
    try:
        language = await services_of(request).messages.unsubscribe_language(token)
    except NotFound:
        return HTMLResponse(invalid_page(_browser_language(request)), status_code=404)
    return HTMLResponse(ask_page(language), headers=PRIVATE_PAGE)


async def unsubscribe(request: Request) -> Response:
    """The page's button, or a mail client's one-click POST (RFC 8058): no more messages."""
    token = request.path_params["token"]
    try:
        language = await services_of(request).messages.unsubscribe(token)
    except NotFound:
        return HTMLResponse(invalid_page(_browser_language(request)), status_code=404)
    return HTMLResponse(done_page(language), headers=PRIVATE_PAGE)


async def feedback_page(request: Request) -> Response:
    """The question a feedback link asks, with the answer given so far."""
    try:
        question = await services_of(request).feedback.question(request.path_params["token"])
    except NotFound:
        return HTMLResponse(
            feedback_pages.invalid_page(_browser_language(request)), status_code=404
        )
    page = feedback_pages.question_page(
        question.language, question.kind, question.shop, question.answered
    )
    return HTMLResponse(page, headers=PRIVATE_PAGE)


async def feedback_answer(request: Request) -> Response:
    """The client's answer: a plain form post of the score and an optional comment."""
    token = request.path_params["token"]
    services = services_of(request)
    # A plain HTML form: application/x-www-form-urlencoded, as browsers send it.
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    try:
        question = await services.feedback.answer(
            token,
            next(iter(form.get("score", [])), None),
            next(iter(form.get("comment", [])), None),
        )
    except NotFound:
        return HTMLResponse(
            feedback_pages.invalid_page(_browser_language(request)), status_code=404
        )
    except ValidationFailed as exc:
        asked = await services.feedback.question(token)
        page = feedback_pages.question_page(
            asked.language, asked.kind, asked.shop, asked.answered, exc.message
        )
        return HTMLResponse(page, status_code=422, headers=PRIVATE_PAGE)
    return HTMLResponse(feedback_pages.thanks_page(question.language), headers=PRIVATE_PAGE)


def _browser_language(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "ru"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        async with services_of(request).db.transaction() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        log.warning("readiness check: database unreachable", exc_info=True)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    counters = services_of(request).capture.limits.counters
    return JSONResponse(
        {
            "status": "ok",
            "database": "ok",
            # Rate limits never make a process unready: without Redis they count locally.
            "rate_limits": counters.mode,
            "rate_limit_fallbacks": counters.fallbacks,
        }
    )


async def metrics(request: Request) -> Response:
    """Prometheus metrics, for operators only: off unless EMBEDCRM_METRICS is set, and then
    answered only to the addresses of EMBEDCRM_METRICS_ALLOW_IPS; anyone else gets a 404, as if
    the route were not there."""
    services = services_of(request)
    client = request.client.host if request.client else None
    networks = request.app.state.metrics_networks
    if networks is None or not _address_in(client, networks):
        raise NotFound("Not found.")
    # Read from the database now, so a scrape sees the queue as it is: two index reads each.
    try:
        OUTBOX_LAG.set(await services.webhooks.outbox_lag_seconds())
        QUARANTINED.set(await services.capture.quarantined_count())
    except ServiceUnavailable:
        log.warning("metrics: the database is unavailable; outbox lag and quarantine not read")
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def _address_in(address: str | None, networks: tuple[Any, ...]) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def body_limit(settings: Settings, path: str) -> int | None:
    if path.startswith("/v1/sites/"):
        return settings.max_submission_bytes
    if path.startswith("/graphql"):
        return settings.max_graphql_bytes
    if path.startswith("/v1/workspaces/"):
        return money_body_limit(path)
    if path.startswith("/unsubscribe/"):
        return UNSUBSCRIBE_BODY_BYTES
    if path.startswith("/feedback/"):
        return FEEDBACK_BODY_BYTES
    return None


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    services: Services = app.state.services
    dispatcher = services.dispatcher() if app.state.run_background else None
    task = asyncio.create_task(dispatcher.run()) if dispatcher else None
    emails = services.email_dispatcher() if app.state.run_background else None
    emails_task = asyncio.create_task(emails.run()) if emails else None
    jobs = asyncio.create_task(run_background_jobs(services)) if app.state.run_jobs else None
    try:
        yield
    finally:
        if jobs:
            jobs.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await jobs
        if dispatcher and task:
            dispatcher.request_stop()
            await task
        if emails and emails_task:
            emails.request_stop()
            await emails_task
        await services.panel_feed.close()
        await services.webhook_client.aclose()
        await services.provider_client.aclose()
        await services.capture.close()
        await services.db.dispose()


ROUTES = [
    # The router tries routes in order, each a regular expression: the busiest come first (a
    # submission used to be tried against a dozen others before its own).
    Route("/v1/sites/{site_key}/submissions", ASGIEndpoint(submit), methods=["POST"]),
    Route("/v1/sites/{site_key}/submissions", submission_preflight, methods=["OPTIONS"]),
    Route("/v1/sites/{site_key}/events", form_event, methods=["POST"]),
    Route("/v1/sites/{site_key}/events", submission_preflight, methods=["OPTIONS"]),
    Route("/v1/sites/{site_key}/config", site_config, methods=["GET"]),
    # Every method reaches the endpoint, so a PUT gets a 405 in the GraphQL error shape too.
    Route("/graphql", ASGIEndpoint(graphql_endpoint)),
    *PANEL_ROUTES,
    *MONEY_ROUTES,
    *FEEDBACK_ROUTES,
    Route("/widget.js", widget, methods=["GET", "HEAD"]),
    Route("/widget/{version}.js", widget, methods=["GET", "HEAD"]),
    Route("/widget.css", widget_css, methods=["GET", "HEAD"]),
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"]),
    Route("/unsubscribe/{token}", unsubscribe, methods=["POST"]),
    Route("/feedback/{token}", feedback_page, methods=["GET"]),
    Route("/feedback/{token}", feedback_answer, methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    run_background: bool = False,
    run_jobs: bool = False,
) -> Starlette:
    """The embedcrm HTTP application. Nothing global: everything hangs off ``settings``.

    ``run_background`` runs the webhook dispatcher inside this process and ``run_jobs`` the
    scheduled jobs (overdue tasks, submissions left unprocessed): what `embedcrm serve` does
    unless told not to. Both are off by default so that an app under test stays deterministic.
    """
    services = services or Services.create(settings)
    app = Starlette(
        routes=ROUTES,
        middleware=[
            # Every answer carries X-Request-ID: the caller's when it is sane, else a new one,
            # and every log line of the request names it (embedcrm/logs.py).
            Middleware(RequestId),
            Middleware(PanelCors, settings=settings),
            Middleware(ForwardedClient, trusted=parse_networks(settings.forwarded_allow_ips)),
            # A GraphQL client that hung up gets its query cancelled: its connection goes back
            # to the pool now rather than after the work nobody will read.
            Middleware(CancelOnDisconnect, applies_to=lambda path: path.startswith("/graphql")),
            Middleware(BodySizeLimit, limit_for=functools.partial(body_limit, settings)),
            Middleware(RequestMetrics),
        ],
        exception_handlers={EmbedCRMError: handle_error},
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.graphql_schema = build_schema(settings)
    app.state.graphiql_html = get_graphql_ide_html("graphiql")
    app.state.openapi = openapi_document(settings.public_url)
    app.state.persisted_queries = PersistedQueries.from_directory(
        Path(settings.persisted_operations), only_known=settings.persisted_only
    )
    app.state.graphql_concurrency = ConcurrencyPerCredential(
        panel=settings.graphql_concurrency_per_panel_token,
        platform=settings.graphql_concurrency_per_platform_key,
    )
    # None: /metrics is off (EMBEDCRM_METRICS unset).
    app.state.metrics_networks = (
        parse_networks(settings.metrics_allow_ips) if settings.metrics else None
    )
    instrument(app, services.db.engine)
    app.state.run_background = run_background
    app.state.run_jobs = run_jobs
    return app
