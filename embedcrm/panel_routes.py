"""The owner's panel over HTTP: its script, its live stream, and CORS for the host's admin page.

Module-level routes and one middleware, so that the application only lists them. The panel
authenticates with a bearer token, never cookies, so answering CORS from any origin (or the
ones EMBEDCRM_PANEL_ORIGINS lists) exposes nothing to a page that holds no token.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from embedcrm.auth import PanelUser
from embedcrm.config import Settings
from embedcrm.errors import EmbedCRMError, Forbidden, NotFound, Unauthenticated
from embedcrm.panel import event_stream
from embedcrm.services import services_of
from embedcrm.static import script_response

# Paths a browser calls with the panel's bearer token.
PANEL_API_PATHS = ("/graphql", "/v1/panel/")


def panel_cors_headers(settings: Settings, origin: str | None) -> dict[str, str]:
    """Any origin unless EMBEDCRM_PANEL_ORIGINS lists them; credentials never."""
    headers = {"Vary": "Origin"}
    if origin and (not settings.panel_origins or origin.rstrip("/") in settings.panel_origins):
        headers["Access-Control-Allow-Origin"] = origin
        # The panel reads Retry-After to pace itself when the server asks it to wait.
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return headers


class PanelCors:
    """Answers the panel's preflights and adds its CORS headers to every answer on its paths,
    errors included (whichever part of the application produced them)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PANEL_API_PATHS):
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        origin = request_headers.get("origin")
        if not origin:
            await self.app(scope, receive, send)
            return
        headers = panel_cors_headers(self.settings, origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in request_headers:
            if "Access-Control-Allow-Origin" in headers:
                headers.update(
                    {
                        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                        "Access-Control-Allow-Headers": "authorization, content-type",
                        "Access-Control-Max-Age": "600",
                    }
                )
            await Response(status_code=204, headers=headers)(scope, receive, send)
            return
        extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, sending)


def _error(exc: EmbedCRMError, status: int, headers: dict[str, str] | None = None) -> Response:
    # The body app.error_response gives every error; the three statuses these routes answer
    # are its own (401 Unauthenticated, 403 Forbidden, 404 NotFound).
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message}}, status_code=status, headers=headers
    )


async def panel_stream(request: Request) -> Response:
    """Server-sent events of the workspace's committed events, for a panel token."""
    services = services_of(request)
    try:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise Unauthenticated("Send Authorization: Bearer <panel token>.")
        principal = await services.workspaces.authenticate(credentials.strip())
    except Unauthenticated as exc:
        return _error(exc, 401, {"WWW-Authenticate": "Bearer"})
    if not isinstance(principal, PanelUser) or principal.expires_at is None:
        return _error(Forbidden("The live stream is for panel tokens."), 403)
    after = request.query_params.get("after") or request.headers.get("last-event-id")
    return StreamingResponse(
        event_stream(
            services.panel_feed,
            services.db,
            principal,
            after=after or None,
            expires_at=principal.expires_at,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def panel_script(request: Request) -> Response:
    """The panel's script: latest (short cache) or a pinned version (immutable)."""
    asset = services_of(request).panel
    versioned = "version" in request.path_params
    if versioned and request.path_params["version"] != asset.version:
        return _error(NotFound("No panel has this version."), 404)
    return script_response(asset, pinned=versioned)


PANEL_ROUTES = [
    Route("/v1/panel/stream", panel_stream, methods=["GET"]),
    Route("/panel.js", panel_script, methods=["GET", "HEAD"]),
    Route("/panel/{version}.js", panel_script, methods=["GET", "HEAD"]),
]
