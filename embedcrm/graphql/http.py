"""GraphQL over HTTP: the request as the GraphQL-over-HTTP specification reads it, automatic
persisted queries, and one error shape for every answer of /graphql.

Every error the endpoint answers, whether the transport refused the request or GraphQL did, is
``{"errors": [{"message": ..., "extensions": {"code": ...}}]}``. The media type follows the
caller's ``Accept``: ``application/graphql-response+json`` when it asks for it, with the
specification's status codes (400 for a request that never ran), ``application/json``
otherwise (200 for any GraphQL result).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor
from starlette.responses import JSONResponse
from strawberry.types.execution import ExecutionResult, PreExecutionError

from embedcrm.errors import ConfigurationError, EmbedCRMError, RetryLater
from embedcrm.graphql.limits import chosen_operation
from embedcrm.storable import find_unstorable

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# The codes Apollo's and urql's persisted-query links look for, in their spelling.
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"


class TransportError(Exception):
    """A request refused before GraphQL saw it, with its HTTP status and error code."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class GraphQLParams:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


@functools.lru_cache(maxsize=256)
def reads_only(query: str | None, operation_name: str | None, max_tokens: int) -> bool:
    """Whether the request runs a query (not a mutation), read from the document as the
    executor will read it: a request whose document does not parse, names no single
    operation, or is over the token limit is not known to read only."""
    if not query:
        return False
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operation, _ = chosen_operation(document, operation_name)
    return operation is not None and operation.operation is OperationType.QUERY


def response_media_type(accept: str | None) -> str:
    """``application/graphql-response+json`` when the caller names it at least as high as JSON;
    ``application/json`` for ``*/*``, a missing header, or anything else."""
    preferred, json_quality = 0.0, 0.0
    for part in (accept or "").split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower()
        if media == GRAPHQL_RESPONSE:
            preferred = max(preferred, quality)
        elif media in (JSON, "application/*", "*/*"):
            json_quality = max(json_quality, quality)
    return GRAPHQL_RESPONSE if preferred > 0 and preferred >= json_quality else JSON


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def error_response(
    media_type: str,
    status: int,
    message: str,
    code: str,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    return JSONResponse(
        error_body(message, code, **extensions),
        status_code=status,
        headers=dict(headers or {}),
        media_type=media_type,
    )


def embedcrm_error_response(
    media_type: str, exc: EmbedCRMError, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    extensions = dict(exc.extensions)
    code = str(extensions.pop("code"))
    headers = dict(headers or {})
    if isinstance(exc, RetryLater):
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(media_type, status, exc.message, code, headers, **extensions)


# --- Reading the request -----------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _bad(message: str) -> TransportError:
    return TransportError(400, "bad_request", message)


def load_json(text: str | bytes, what: str) -> Any:
    """JSON a database could hold: NaN, Infinity and nesting past Python's limit are refused."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise _bad(f"{what}: the JSON is nested too deeply.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"{what} is not JSON: {exc}") from exc


# A GraphQL string escape for NUL or for a surrogate that is not half of a pair: checked in the
# document's text, so no per-field wrapper is needed to catch it in a literal argument.
_UNSTORABLE_ESCAPE = re.compile(
    r"\\u(?:0000|\{0+\}"
    r"|[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<![dD][89abAB][0-9a-fA-F]{2}\\u)[dD][c-fC-F][0-9a-fA-F]{2})"
)


_PARAMETERS = (
    ("query", str, "a string"),
    ("operationName", str, "a string"),
    ("variables", dict, "an object"),
    ("extensions", dict, "an object"),
)


def params_from(document: Any) -> GraphQLParams:
    """The four parameters, each of the type the specification gives it, or a 400."""
    if isinstance(document, list):
        raise _bad("Send one operation as a JSON object: batching is off.")
    if not isinstance(document, dict):
        raise _bad("Send a JSON object with `query`, and `variables` if it has any.")
    for name, kind, described in _PARAMETERS:
        value = document.get(name)
        if value is not None and not isinstance(value, kind):
            raise _bad(f"`{name}` is {described} or null.")
    query, operation_name = document.get("query"), document.get("operationName")
    variables, extensions = document.get("variables"), document.get("extensions")
    if query is None and not (extensions and "persistedQuery" in extensions):
        raise _bad("Send the operation in `query`.")
    found = find_unstorable(variables, "variables") if variables else None
    if found is not None:
        raise _bad(f"{found[0]}: {found[1]}")
    if query is not None and ("\x00" in query or _UNSTORABLE_ESCAPE.search(query)):
        raise _bad("query: a string may not hold NUL or an unpaired surrogate.")
    return GraphQLParams(query, variables, operation_name, extensions)


def params_from_query_string(params: Mapping[str, str]) -> GraphQLParams:
    """A GET: `variables` and `extensions` are JSON in the query string."""
    document: dict[str, Any] = {
        "query": params.get("query"),
        "operationName": params.get("operationName") or None,
    }
    for name in ("variables", "extensions"):
        raw = params.get(name)
        if raw:
            document[name] = load_json(raw, f"`{name}`")
    return params_from(document)


def params_from_body(content_type: str | None, body: bytes) -> GraphQLParams:
    media, _, parameters = (content_type or "").partition(";")
    if media.strip().lower() != JSON:
        raise TransportError(
            415,
            "unsupported_media_type",
            "Send the operation as application/json.",
            {"Accept-Post": JSON},
        )
    charset = re.search(r"charset=\"?([\w-]+)", parameters, re.IGNORECASE)
    if charset and charset.group(1).lower() not in ("utf-8", "utf8"):
        raise TransportError(415, "unsupported_media_type", "Send the body in UTF-8.")
    if not body.strip():
        raise _bad("The body is empty: send a JSON object with `query`.")
    return params_from(load_json(body, "The body"))


# --- Persisted queries ---------------------------------------------------------------------


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def operation_documents(document: DocumentNode) -> dict[str, str]:
    """Each named operation of ``document`` with the fragments it uses, printed alone."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    printed: dict[str, str] = {}
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        name = operation.name.value if operation.name else ""
        printed[name] = canonical([operation, *_used_fragments(operation, fragments)])
    return printed


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: Any) -> None:
        self.names.append(spread.name.value)


def _used_fragments(
    node: Any, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    """The fragments ``node`` spreads, and those they spread, in name order."""
    used: dict[str, FragmentDefinitionNode] = {}
    pending = [node]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)
        for name in spreads.names:
            if name in fragments and name not in used:
                used[name] = fragments[name]
                pending.append(fragments[name])
    return sorted(used.values(), key=lambda f: f.name.value)


def canonical(definitions: Iterable[Any]) -> str:
    return print_ast(DocumentNode(definitions=tuple(definitions)))


def selected_operation(query: str, operation_name: str | None) -> str | None:
    """The operation a request runs, printed with its fragments; None if it cannot be told."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operation, fragments = chosen_operation(document, operation_name)
    if operation is None:
        return None
    return canonical([operation, *_used_fragments(operation, fragments)])


class PersistedQueries:
    """Documents by their SHA-256, as Apollo's and urql's APQ links send them.

    Open (the default): a hash the process has not seen is answered PersistedQueryNotFound, the
    link sends the query with its hash, and the process keeps it, within a bounded number of
    characters, least recently used first out. A miss costs one round trip, so each process
    keeping its own is enough.

    Persisted-only (EMBEDCRM_PERSISTED_ONLY): only the operations of ``operations`` run, by hash
    or in full; a full query is compared with them printed the one canonical way, so spacing and
    comments do not matter, and a client's own hash of a known operation is learnt on the way.
    """

    def __init__(
        self,
        *,
        operations: Mapping[str, str] | None = None,
        only_known: bool = False,
        max_characters: int = 4_000_000,
    ) -> None:
        self.only_known = only_known
        self.max_characters = max_characters
        self.known: dict[str, str] = {}  # canonical text -> itself, to compare full queries
        self.by_hash: OrderedDict[str, str] = OrderedDict()
        self.pinned: dict[str, str] = {}
        self.characters = 0
        for text in (operations or {}).values():
            self.known[text] = text
            self.pinned[sha256_hex(text)] = text

    @classmethod
    def from_directory(cls, directory: Path, *, only_known: bool) -> PersistedQueries:
        operations: dict[str, str] = {}
        paths = sorted(directory.glob("*.graphql"))
        if only_known and not paths:
            raise ConfigurationError(
                f"EMBEDCRM_PERSISTED_ONLY is on, but {directory} holds no *.graphql operations."
            )
        for path in paths:
            for name, text in operation_documents(parse(path.read_text())).items():
                operations[f"{path.stem}:{name}"] = text
        return cls(operations=operations, only_known=only_known)

    def resolve(self, params: GraphQLParams) -> GraphQLParams:
        """The request with its query: looked up by hash, checked against it, or refused."""
        persisted = (params.extensions or {}).get("persistedQuery")
        if persisted is None:
            if params.query is not None and self.only_known:
                self._require_known(params.query, params.operation_name)
            return params
        if (
            not isinstance(persisted, dict)
            or persisted.get("version") != 1
            or not isinstance(persisted.get("sha256Hash"), str)
        ):
            raise TransportError(
                400,
                PERSISTED_QUERY_NOT_SUPPORTED,
                "PersistedQueryNotSupported: send extensions.persistedQuery as "
                '{"version": 1, "sha256Hash": "<hex SHA-256 of the query>"}.',
            )
        digest = persisted["sha256Hash"].lower()
        if params.query is None:
            text = self.pinned.get(digest) or self.by_hash.get(digest)
            if text is None:
                raise PersistedQueryNotFound
            if digest in self.by_hash:
                self.by_hash.move_to_end(digest)
            return GraphQLParams(text, params.variables, params.operation_name, params.extensions)
        if sha256_hex(params.query) != digest:
            raise _bad("extensions.persistedQuery.sha256Hash is not the SHA-256 of `query`.")
        if self.only_known:
            self._require_known(params.query, params.operation_name)
        self._remember(digest, params.query)
        return params

    def _require_known(self, query: str, operation_name: str | None) -> None:
        text = selected_operation(query, operation_name)
        if text is None or text not in self.known:
            raise TransportError(
                400,
                "operation_not_persisted",
                "This server runs only the operations it was deployed with "
                "(schema/operations/); this one is not among them.",
            )

    def _remember(self, digest: str, query: str) -> None:
        if digest in self.pinned or digest in self.by_hash or len(query) > self.max_characters:
            return
        self.by_hash[digest] = query
        self.characters += len(query)
        while self.characters > self.max_characters:
            _, dropped = self.by_hash.popitem(last=False)
            self.characters -= len(dropped)


class PersistedQueryNotFound(Exception):
    """The hash is unknown: the links answer it by sending the query with the hash."""


def persisted_query_not_found(media_type: str) -> JSONResponse:
    # 200, whatever the media type: Apollo's link reads a 400 as "this server has no persisted
    # queries" and stops sending hashes for good.
    return error_response(media_type, 200, "PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)


# --- Writing the answer --------------------------------------------------------------------


def is_request_error(result: ExecutionResult) -> bool:
    """True when nothing ran: parsing, validation, variables or a limit refused the operation."""
    if isinstance(result, PreExecutionError):
        return True
    errors = result.errors or []
    return result.data is None and bool(errors) and all(not e.path for e in errors)


def error_code(error: GraphQLError, *, pre_execution: bool) -> str:
    """Every error's ``extensions.code``: its own, else one for graphql-core's kind of refusal."""
    original = error.original_error
    if isinstance(original, EmbedCRMError):
        return original.code
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if pre_execution:
        if isinstance(error, GraphQLSyntaxError) or error.message.startswith("Syntax Error"):
            return "graphql_parse_failed"
        return "graphql_validation_failed"
    if not error.path or isinstance(original, GraphQLError):
        # graphql-core refusing a variable's value (a null for ID!, an Int over 2^31).
        return "bad_user_input"
    return "internal_error"


def formatted_errors(result: ExecutionResult) -> list[dict[str, Any]]:
    pre_execution = isinstance(result, PreExecutionError)
    formatted = []
    for error in result.errors or ():
        one: dict[str, Any] = dict(error.formatted)
        extensions: dict[str, Any] = dict(one.get("extensions") or {})
        extensions["code"] = error_code(error, pre_execution=pre_execution)
        one["extensions"] = extensions
        formatted.append(one)
    return formatted


def result_response(media_type: str, result: ExecutionResult) -> JSONResponse:
    body: dict[str, Any] = {}
    request_error = is_request_error(result)
    if not request_error:
        body["data"] = result.data
    if result.errors:
        body["errors"] = formatted_errors(result)
    if result.extensions:
        body["extensions"] = result.extensions
    headers: dict[str, str] = {}
    retry = [
        error.original_error
        for error in result.errors or ()
        if isinstance(error.original_error, RetryLater)
    ]
    status = 200
    if retry:
        # Not the caller's mistake: 503 (or 429) with Retry-After, whatever the media type.
        status = 429 if all(e.code == "rate_limited" for e in retry) else 503
        headers["Retry-After"] = str(max(e.retry_after for e in retry))
    elif request_error and media_type == GRAPHQL_RESPONSE:
        codes = {one["extensions"]["code"] for one in body["errors"]}
        status = 403 if codes == {"forbidden"} else 400
    return JSONResponse(body, status_code=status, headers=headers, media_type=media_type)
