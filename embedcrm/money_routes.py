"""The money side over HTTP: the printable invoice behind its signed link.

Module-level routes, so that the application only lists them. The link carries its own
authority (an itsdangerous signature), so the page needs no credential; an invalid or expired
link answers 404 like an unknown page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

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


MONEY_ROUTES = [Route("/v1/invoices/{token}", invoice_page, methods=["GET"])]
