"""The money side over HTTP: the printable invoice behind its signed link, and the payment
providers' notifications.

Module-level routes, so that the application only lists them. The link carries its own
authority (an itsdangerous signature), so the page needs no credential; an invalid or expired
link answers 404 like an unknown page. A provider's notification is believed only as its
protocol allows (embedcrm/invoices/providers.py); every refusal is the usual JSON error body,
and a provider that cannot be reached answers 503, so the provider retries.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from embedcrm.errors import BadRequest, NotFound, PayloadTooLarge
from embedcrm.invoices.page import render_invoice

if TYPE_CHECKING:
    from embedcrm.services import Services

# The page is self-contained: its own inline style, nothing else, no framing by other sites.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


async def invoice_page(request: Request) -> Response:
    services: Services = request.app.state.services
    view = await services.invoices.printable(
        request.path_params["token"], request.query_params.get("lang")
    )
    return HTMLResponse(render_invoice(view), headers=PAGE_HEADERS)


# A notification is a few hundred bytes; anything far larger is not one.
MAX_NOTIFICATION_BYTES = 64 * 1024


def _workspace(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["workspace"])
    except ValueError as exc:
        raise NotFound("Nothing has this id.") from exc


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise PayloadTooLarge("A notification is at most 64 KiB.")
    return body


async def robokassa_result(request: Request) -> Response:
    """Robokassa's ResultURL: the fields as a form post, or in the query of a GET."""
    services: Services = request.app.state.services
    workspace = _workspace(request)
    if request.method == "GET":
        fields = dict(request.query_params)
    else:
        try:
            text = (await _body(request)).decode()
        except UnicodeDecodeError as exc:
            raise BadRequest("The form is not UTF-8.") from exc
        fields = dict(parse_qsl(text, keep_blank_values=True))
    answer = await services.providers.robokassa_result(workspace, fields)
    return PlainTextResponse(answer)


async def yookassa_notification(request: Request) -> Response:
    services: Services = request.app.state.services
    workspace = _workspace(request)
    try:
        body: Any = json.loads(await _body(request))
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
]
