"""The money side over HTTP: the printable invoice behind its signed link, and the payment
providers' notifications, and the 1C exchange.

Module-level routes, so that the application only lists them. The link carries its own
authority (an itsdangerous signature), so the page needs no credential; an invalid or expired
link answers 404 like an unknown page. A provider's notification is believed only as its
protocol allows (embedcrm/invoices/providers.py); every refusal is the usual JSON error body,
and a provider that cannot be reached answers 503, so the provider retries.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from embedcrm.errors import BadRequest, NotFound
from embedcrm.exchange.service import FILE_LIMIT, SESSION_COOKIE
from embedcrm.invoices.page import render_invoice
from embedcrm.services import services_of

# The page is self-contained: its own inline style, nothing else, no framing by other sites.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


async def invoice_page(request: Request) -> Response:
    services = services_of(request)
    view = await services.invoices.printable(
        request.path_params["token"], request.query_params.get("lang")
    )
    return HTMLResponse(render_invoice(view), headers=PAGE_HEADERS)


# A notification is a few hundred bytes; anything far larger is not one. 1C uploads a file in
# parts of at most its file_limit.
MAX_NOTIFICATION_BYTES = 64 * 1024


def money_body_limit(path: str) -> int:
    """The largest body each money route takes (the app's BodySizeLimit applies it)."""
    return FILE_LIMIT + 1024 if path.endswith("/1c/exchange") else MAX_NOTIFICATION_BYTES


def _workspace(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["workspace"])
    except ValueError as exc:
        raise NotFound("Nothing has this id.") from exc


async def one_c_exchange(request: Request) -> Response:
    """1C's «обмен с сайтом»: every mode of type=sale and type=catalog on one URL."""
    services = services_of(request)
    query = request.query_params
    answer = await services.one_c.handle(
        _workspace(request),
        exchange_type=query.get("type", ""),
        mode=query.get("mode", ""),
        filename=query.get("filename"),
        authorization=request.headers.get("authorization"),
        session_cookie=request.cookies.get(SESSION_COOKIE),
        body=await request.body() if request.method == "POST" else b"",
    )
    return Response(answer.body, media_type=answer.content_type)


async def robokassa_result(request: Request) -> Response:
    """Robokassa's ResultURL: the fields as a form post, or in the query of a GET."""
    services = services_of(request)
    workspace = _workspace(request)
    if request.method == "GET":
        fields = dict(request.query_params)
    else:
        try:
            text = (await request.body()).decode()
        except UnicodeDecodeError as exc:
            raise BadRequest("The form is not UTF-8.") from exc
        fields = dict(parse_qsl(text, keep_blank_values=True))
    answer = await services.providers.robokassa_result(workspace, fields)
    return PlainTextResponse(answer)


async def yookassa_notification(request: Request) -> Response:
    services = services_of(request)
    workspace = _workspace(request)
    try:
        body: Any = json.loads(await request.body())
    except (ValueError, RecursionError) as exc:
        raise BadRequest("The notification is not JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The notification is not a JSON object.")
    await services.providers.yookassa_notification(workspace, body)
    return JSONResponse({})


MONEY_ROUTES = [
    Route("/v1/invoices/{token}", invoice_page, methods=["GET"]),
    Route(
        "/v1/workspaces/{workspace}/payments/robokassa/result",
        robokassa_result,
        methods=["GET", "POST"],
    ),
    Route(
        "/v1/workspaces/{workspace}/payments/yookassa/notifications",
        yookassa_notification,
        methods=["POST"],
    ),
    Route("/v1/workspaces/{workspace}/1c/exchange", one_c_exchange, methods=["GET", "POST"]),
]
