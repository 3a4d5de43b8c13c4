"""The feedback question as JSON, for the form the widget draws on the shop's own site.

A message may carry ``{{feedback.nps_site_url}}``: the shop's site with the link's token in the
fragment (``#embedcrm-feedback=…``). The widget, which the host puts on every page of that site,
sees the fragment and loads ``/feedback.js``, which asks these two routes. The token is the only
authority, as on the hosted page (``/feedback/{token}``), so any origin may call them and no
credential is ever sent. The texts come from the hosted page's own table, so both speak alike.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from embedcrm.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from embedcrm.feedback.models import SCALES
from embedcrm.feedback.pages import texts_of
from embedcrm.feedback.service import Question
from embedcrm.services import services_of
from embedcrm.static import script_response

# A score and a comment of at most 2,000 characters: far under this.
MAX_ANSWER_BYTES = 16 * 1024

HEADERS = {
    # The token is the credential, as in a link: readable from any origin, never with cookies.
    "Access-Control-Allow-Origin": "*",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _question_json(question: Question) -> dict[str, Any]:
    texts = texts_of(question.language)
    return {
        "kind": question.kind.value,
        "language": question.language,
        "shop": question.shop,
        "scale": list(SCALES[question.kind]),
        "score": question.answered,
        "texts": {
            "title": texts.title,
            "question": texts.questions[question.kind].format(shop=question.shop),
            "low": texts.low[question.kind],
            "high": texts.high[question.kind],
            "comment": texts.comment,
            "send": texts.send,
            "thanks": texts.thanks,
            "close": texts.close,
        },
    }


async def feedback_question(request: Request) -> Response:
    question = await services_of(request).feedback.question(request.path_params["token"])
    return JSONResponse(_question_json(question), headers=HEADERS)


async def feedback_answer(request: Request) -> Response:
    """``{"score": 9, "comment": "…"}`` as JSON; sent as text/plain too, as the widget sends its
    forms, so that a browser needs no preflight."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in {"application/json", "text/plain"}:
        raise UnsupportedMediaType("Send application/json, or text/plain holding JSON.")
    raw = await request.body()
    if len(raw) > MAX_ANSWER_BYTES:
        raise PayloadTooLarge(f"An answer is at most {MAX_ANSWER_BYTES} bytes.")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest("The body is not valid JSON.") from exc
    if not isinstance(document, dict):
        raise BadRequest("The body must be a JSON object.")
    score, comment = document.get("score"), document.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise BadRequest("The comment must be text.")
    # A boolean is an int to Python: true must not read as the score 1.
    if isinstance(score, bool) or not isinstance(score, int | str | None):
        raise BadRequest("The score must be a whole number.")
    question = await services_of(request).feedback.answer(
        request.path_params["token"], None if score is None else str(score), comment
    )
    return JSONResponse(_question_json(question), headers=HEADERS)


async def feedback_script(request: Request) -> Response:
    return script_response(services_of(request).feedback_script, pinned=False)


FEEDBACK_ROUTES = [
    Route("/v1/feedback/{token}", feedback_question, methods=["GET"]),
    Route("/v1/feedback/{token}", feedback_answer, methods=["POST"]),
    Route("/feedback.js", feedback_script, methods=["GET", "HEAD"]),
]

__all__ = ["FEEDBACK_ROUTES"]
