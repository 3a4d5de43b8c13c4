"""The OpenAPI 3.1 description of the plain HTTP routes, served at /openapi.json.

Kept by hand beside the routes it describes; tests/test_openapi.py checks that it names exactly
the routes of embedcrm/app.py, panel_routes.py, money_routes.py and feedback_routes.py (GraphQL has its own schema, schema/) and
runs schemathesis against it. The shapes are those of docs/contract.md.
"""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
JSON_ERROR = {"application/json": {"schema": ERROR}}


def parameter(name: str, where: str, description: str) -> dict[str, Any]:
    """A string parameter, required when it is part of the path."""
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": {"type": "string"},
    }


SITE_KEY = parameter(
    "site_key", "path", "The site's public key (`pk_…`), as in the widget's `data-site`."
)
VERSION = parameter(
    "version", "path", "A script's content version, as `panelScript { src }` or the snippet names."
)
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before sending again.",
        "schema": {"type": "string"},
    }
}


def error(description: str, *, retry: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": JSON_ERROR}
    if retry:
        answer["headers"] = RETRY_AFTER
    return answer


def script(description: str, media_type: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}


NOT_FOUND_SITE = error("No site has this key.")
UNAVAILABLE = error("The database is unreachable; send again after Retry-After.", retry=True)
PREFLIGHT = {
    "summary": "CORS preflight of a page on one of the site's domains",
    "parameters": [SITE_KEY],
    "responses": {
        "204": {"description": "The origin may send (Access-Control-Allow-* headers)."},
        "403": error("The Origin is not one of the site's domains."),
        "404": NOT_FOUND_SITE,
        "503": UNAVAILABLE,
    },
}
STATIC = {"get", "head"}


def _static(summary: str, media_type: str, *, versioned: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": script("The file.", media_type)}
    if versioned:
        responses["404"] = error("No file has this version.")
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if versioned:
        operation["parameters"] = [VERSION]
    return {method: operation for method in sorted(STATIC)}


WORKSPACE = parameter(
    "workspace",
    "path",
    "The workspace's id (a UUID), as in the URL the owner gave the provider or 1C.",
)
NOTIFICATION_REFUSALS = {
    "400": error("The body or a field is not what the provider sends."),
    "403": error("The signature or the credentials do not match."),
    "404": error("The provider is not set up here, or no invoice has this number or id."),
    "409": error("The payment does not fit the invoice (state or currency)."),
    "413": error("The body is over the size limit."),
    "503": error("The database or the provider cannot be reached; retry later.", retry=True),
}


def _robokassa_result() -> dict[str, Any]:
    answer = {"200": script("`OK<InvId>`: Robokassa stops notifying.", "text/plain")}
    summary = "Robokassa's ResultURL, signed with password #2"
    return {
        "get": {
            "summary": summary + " (fields in the query)",
            "parameters": [WORKSPACE],
            "responses": {**answer, **NOTIFICATION_REFUSALS},
        },
        "post": {
            "summary": summary + " (fields as a form)",
            "parameters": [WORKSPACE],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "additionalProperties": {"type": "string"}}
                    }
                },
            },
            "responses": {**answer, **NOTIFICATION_REFUSALS},
        },
    }


def _one_c_exchange() -> dict[str, Any]:
    query = [
        parameter(name, "query", description)
        for name, description in (
            ("type", "`sale` or `catalog`."),
            ("mode", "`checkauth`, `init`, `query`, `success`, `file` or `import`."),
            ("filename", "The exchange file's name (modes `file` and `import`)."),
        )
    ]
    responses = {
        "200": {
            "description": "1C's plain-text answer, or the orders as CommerceML 2 (mode=query).",
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "application/xml": {"schema": {"type": "string"}},
            },
        },
        "400": error("An unknown type or mode, a missing file name, or an unreadable file."),
        "401": error("The 1C login or password is wrong, or checkauth came first."),
        "404": error("No workspace has this id, or it has no 1C exchange."),
        "413": error("A part or a file over the limit given at init."),
        "422": error("A file whose content cannot be imported."),
        "503": UNAVAILABLE,
    }
    operation = {"parameters": [WORKSPACE, *query], "responses": responses}
    return {
        "get": {"summary": "1C's exchange with the site (checkauth, init, query)", **operation},
        "post": {
            "summary": "1C's exchange with the site (file, success)",
            **operation,
            "requestBody": {
                "required": False,
                "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            },
        },
    }


TOKEN = {
    "name": "token",
    "in": "path",
    "required": True,
    "description": "The signed token of the link a message carried.",
    "schema": {"type": "string"},
}
PAGE = script("A plain page in the shop's language.", "text/html")
INVALID_LINK = script("The link is not valid (forged, or its contact was erased).", "text/html")


FEEDBACK_ANSWER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": ["integer", "string", "null"]},
        "comment": {"type": ["string", "null"], "maxLength": 2000},
    },
}
FEEDBACK_QUESTION = {
    "description": "The question, its scale, the answer so far and the texts, in the shop's "
    "language.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["kind", "language", "shop", "scale", "score", "texts"],
                "properties": {
                    "kind": {"enum": ["NPS", "CSAT"]},
                    "language": {"type": "string"},
                    "shop": {"type": "string"},
                    "scale": {"type": "array", "items": {"type": "integer"}},
                    "score": {"type": ["integer", "null"]},
                    "texts": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            }
        }
    },
}


def _link_page(summary: str, post: dict[str, Any]) -> dict[str, Any]:
    """A page a message links to: GET asks, POST answers; both in the shop's language."""
    asks = {
        "summary": summary,
        "parameters": [TOKEN],
        "responses": {"200": PAGE, "404": INVALID_LINK, "503": UNAVAILABLE},
    }
    return {"get": asks, "post": {"parameters": [TOKEN], **post}}


def openapi_document(public_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "embedcrm HTTP routes",
            "version": "1",
            "description": "The routes beside GraphQL (POST /graphql, described by "
            "schema/schema.graphql): the widget's config and submissions, the scripts, "
            "health, metrics and the panel's live stream. See docs/contract.md.",
        },
        "servers": [{"url": public_url}],
        "paths": {
            "/v1/sites/{site_key}/config": {
                "get": {
                    "summary": "What the widget needs for a site",
                    "parameters": [SITE_KEY],
                    "responses": {
                        "200": {
                            "description": "The site's language, a fresh form token, its forms.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/SiteConfig"}
                                }
                            },
                        },
                        "404": NOT_FOUND_SITE,
                        "503": UNAVAILABLE,
                    },
                }
            },
            "/v1/sites/{site_key}/submissions": {
                "post": {
                    "summary": "One form submission",
                    "description": "Idempotent on `submission_id`: the same body again answers "
                    "200, a different one 409. The Origin must be one of the site's domains.",
                    "parameters": [SITE_KEY],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Submission"}
                            },
                            "text/plain": {
                                "schema": {
                                    "type": "string",
                                    "description": "The same JSON (navigator.sendBeacon).",
                                }
                            },
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                    "description": "A plain HTML form without JavaScript.",
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "A repeat of a submission already accepted.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Accepted"}
                                }
                            },
                        },
                        "202": {
                            "description": "Accepted; it becomes a lead right after.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Accepted"}
                                }
                            },
                        },
                        "400": error("The body is not one JSON object, or a value is unstorable."),
                        "403": error("The Origin is not one of the site's domains."),
                        "404": NOT_FOUND_SITE,
                        "409": error("This submission_id was sent before with another body."),
                        "413": error("The body is over the size limit."),
                        "415": error("Another content type than the three above."),
                        "422": error("The site's own form refused it; `fields` says why."),
                        "429": error("Too many from this visitor or site.", retry=True),
                        "503": UNAVAILABLE,
                    },
                },
                "options": PREFLIGHT,
            },
            "/v1/sites/{site_key}/events": {
                "post": {
                    "summary": "A sampled view or start of a form (analytics beacon)",
                    "parameters": [SITE_KEY],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/plain": {"schema": {"type": "string"}},
                            "application/json": {"schema": {"type": "object"}},
                        },
                    },
                    "responses": {
                        "204": {"description": "Counted."},
                        "400": error("The body is not one JSON object."),
                        "403": error("The Origin is not one of the site's domains."),
                        "404": NOT_FOUND_SITE,
                        "413": error("The body is over the size limit."),
                        "422": error("The event is not one the widget sends."),
                        "429": error("Too many from this visitor.", retry=True),
                        "503": UNAVAILABLE,
                    },
                },
                "options": PREFLIGHT,
            },
            "/widget.js": _static("The lead-capture widget", "text/javascript", versioned=False),
            "/widget/{version}.js": _static(
                "The widget pinned to a version (immutable)", "text/javascript", versioned=True
            ),
            "/widget.css": _static("The widget's styles", "text/css", versioned=False),
            "/panel.js": _static(
                "The owner's panel components", "text/javascript", versioned=False
            ),
            "/panel/{version}.js": _static(
                "The panel pinned to a version (immutable)", "text/javascript", versioned=True
            ),
            "/v1/panel/stream": {
                "get": {
                    "summary": "Live updates of the panel token's workspace (server-sent events)",
                    "security": [{"bearer": []}],
                    "parameters": [
                        parameter(
                            "after", "query", "Resume after this event cursor (or Last-Event-ID)."
                        )
                    ],
                    "responses": {
                        "200": script("One message per committed event.", "text/event-stream"),
                        "401": error("No valid panel token."),
                        "403": error("A platform key: the stream is for panel tokens."),
                    },
                }
            },
            "/v1/invoices/{token}": {
                "get": {
                    "summary": "The printable invoice behind its signed link (Invoice.printUrl)",
                    "parameters": [
                        parameter("token", "path", "The signed link's token."),
                        parameter(
                            "lang", "query", "`ru` or `en`; the workspace's language otherwise."
                        ),
                    ],
                    "responses": {
                        "200": script("The invoice as one self-contained page.", "text/html"),
                        "404": error("The link is forged or has expired."),
                        "503": UNAVAILABLE,
                    },
                }
            },
            "/v1/workspaces/{workspace}/payments/robokassa/result": _robokassa_result(),
            "/v1/workspaces/{workspace}/payments/yookassa/notifications": {
                "post": {
                    "summary": "YooKassa's notification, believed once the payment is fetched back",
                    "parameters": [WORKSPACE],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "Taken (an empty object).",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **NOTIFICATION_REFUSALS,
                    },
                }
            },
            "/v1/workspaces/{workspace}/1c/exchange": _one_c_exchange(),
            "/healthz": {
                "get": {
                    "summary": "Liveness",
                    "responses": {
                        "200": {
                            "description": "The process answers.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: the database is reachable",
                    "responses": {
                        "200": {
                            "description": "Ready.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "503": {
                            "description": "The database is unreachable.",
                            "headers": RETRY_AFTER,
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics, for the operators' addresses only",
                    "responses": {
                        "200": script("The text exposition format.", "text/plain"),
                        "404": error("Metrics are off, or this address is not an operator's."),
                    },
                }
            },
            "/unsubscribe/{token}": _link_page(
                "The unsubscribe link of a message: a page asking whether to stop messages",
                {
                    "summary": "Unsubscribe (the page's button, or RFC 8058 one-click); again "
                    "is fine",
                    "responses": {"200": PAGE, "404": INVALID_LINK, "503": UNAVAILABLE},
                },
            ),
            "/feedback/{token}": _link_page(
                "The NPS or CSAT question of a feedback link, with the answer given so far",
                {
                    "summary": "The client's answer: a score and an optional comment",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "score": {"type": "string"},
                                        "comment": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": PAGE,
                        "404": INVALID_LINK,
                        "422": script("The question again, saying what to fix.", "text/html"),
                        "503": UNAVAILABLE,
                    },
                },
            ),
            "/v1/feedback/{token}": {
                "get": {
                    "summary": "A feedback link's question as JSON, for the widget's form on "
                    "the shop's own site (any origin; the token is the credential)",
                    "parameters": [TOKEN],
                    "responses": {
                        "200": FEEDBACK_QUESTION,
                        "404": error("The link is not valid (forged, or its contact erased)."),
                        "503": UNAVAILABLE,
                    },
                },
                "post": {
                    "summary": "The client's answer; again through the same link changes it",
                    "parameters": [TOKEN],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": FEEDBACK_ANSWER},
                            "text/plain": {
                                "schema": {
                                    "type": "string",
                                    "description": "The same JSON, sent without a preflight.",
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": FEEDBACK_QUESTION,
                        "400": error("The body is not a JSON object of a score and a comment."),
                        "404": error("The link is not valid (forged, or its contact erased)."),
                        "413": error("The body is over the size limit."),
                        "415": error("The body is neither JSON nor text/plain holding JSON."),
                        "422": error(
                            "The score is missing or off the scale, or the comment is "
                            "too long or holds what cannot be kept."
                        ),
                        "503": UNAVAILABLE,
                    },
                },
            },
            "/feedback.js": _static(
                "The feedback form the widget loads on a page opened from a feedback link",
                "text/javascript",
                versioned=False,
            ),
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A panel token."}
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "fields": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                        }
                    },
                },
                "Accepted": {
                    "type": "object",
                    "required": ["submission_id", "status"],
                    "properties": {
                        "submission_id": {"type": "string"},
                        "status": {"const": "accepted"},
                    },
                },
                "SiteConfig": {
                    "type": "object",
                    "required": ["site", "form_token", "forms"],
                    "properties": {
                        "site": {
                            "type": "object",
                            "properties": {
                                "key": {"type": "string"},
                                "language": {"type": ["string", "null"]},
                            },
                        },
                        "form_token": {"type": "string"},
                        "form_token_field": {"type": "string"},
                        "honeypot_field": {"type": "string"},
                        "forms": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Submission": {
                    "type": "object",
                    "required": ["fields"],
                    "properties": {
                        "submission_id": {
                            "type": "string",
                            "description": "The client's id (a UUID); optional for a plain form.",
                        },
                        "form": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                        "context": {"type": "object"},
                        "consent": {"type": "boolean"},
                        "seen": {"type": "object"},
                        "withheld": {"type": "array", "items": {"type": "string"}},
                        "form_token": {"type": "string"},
                    },
                },
            },
        },
    }
