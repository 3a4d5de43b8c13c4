"""How a GraphQL request's errors are logged: one line per failed request, not one per field."""

from __future__ import annotations

import logging
from collections import Counter

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from embedcrm.errors import EmbedCRMError, RetryLater

log = logging.getLogger("embedcrm.graphql")


class LoggedSchema(strawberry.Schema):
    """strawberry logs a traceback for every error; a page whose database went away has one
    error per field, and a burst of such pages wrote tens of megabytes. Here the request gets
    one record: its codes counted, and the traceback of its first unexpected error only."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        if not errors:
            return
        codes: Counter[str] = Counter()
        unexpected: GraphQLError | None = None
        for error in errors:
            original = error.original_error
            if isinstance(original, EmbedCRMError):
                codes[original.code] += 1
            elif original is None or isinstance(original, GraphQLError):
                # graphql-core's own refusals (a bad document, an Int over 2^31 in a variable).
                codes[str((error.extensions or {}).get("code", "invalid_query"))] += 1
            else:
                codes["internal"] += 1
                unexpected = unexpected or error
        context = execution_context.context if execution_context else None
        request_id = getattr(context, "request_id", "") or "-"
        operation = (execution_context.operation_name if execution_context else None) or "-"
        summary = ", ".join(f"{code} x{count}" for code, count in sorted(codes.items()))
        message = "graphql request %s (operation %s) failed: %s"
        if unexpected is not None:
            log.error(
                message + "; first unexpected error: %s",
                request_id,
                operation,
                summary,
                unexpected.message,
                exc_info=unexpected.original_error,
            )
        elif any(isinstance(e.original_error, RetryLater) for e in errors):
            log.warning(message, request_id, operation, summary)
        else:
            log.info(message, request_id, operation, summary)
