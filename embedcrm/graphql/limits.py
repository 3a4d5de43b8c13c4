"""What one GraphQL request may cost: rows asked for, and requests one credential runs at once."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.type.definition import (
    GraphQLArgumentMap,
    GraphQLFieldMap,
    GraphQLInterfaceType,
    GraphQLObjectType,
)
from strawberry.extensions import SchemaExtension

from embedcrm.auth import PanelUser, Principal
from embedcrm.errors import RateLimited
from embedcrm.kit.repository import MAX_PAGE_SIZE

QUERY_TOO_COSTLY = "query_too_costly"


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """How many rows the operation may fetch: every `first` times the `first`s around it.

    A connection inside a list runs once per row of that list (a contact's timeline under a
    page of leads is one query per lead), so nesting multiplies. `first` is read as the
    server reads it: clamped to the page size, its default when left out.
    """
    operation, fragments = chosen_operation(document, operation_name)
    if operation is None:
        return 0  # graphql-core answers the missing or ambiguous operation itself
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    return _cost(schema, root, operation.selection_set, 1, fragments, dict(variables or {}), ())


def chosen_operation(
    document: DocumentNode, operation_name: str | None
) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode]]:
    """The operation a request runs (None when it names none, or an ambiguous one), and the
    document's fragments by name."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return (operations[0] if len(operations) == 1 else None), fragments


def _cost(
    schema: GraphQLSchema,
    parent: Any,
    selection_set: SelectionSetNode,
    multiplier: int,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    spreads: tuple[str, ...],
) -> int:
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields: GraphQLFieldMap = (
                parent.fields
                if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType))
                else {}
            )
            field = fields.get(selection.name.value)
            if field is None:
                continue
            inner = multiplier
            if "first" in field.args:
                rows = _rows(selection, field.args, variables)
                total += multiplier * rows
                inner = multiplier * rows
            if selection.selection_set is not None:
                total += _cost(
                    schema,
                    get_named_type(field.type),
                    selection.selection_set,
                    inner,
                    fragments,
                    variables,
                    spreads,
                )
        elif isinstance(selection, InlineFragmentNode):
            condition = (
                schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            total += _cost(
                schema,
                condition,
                selection.selection_set,
                multiplier,
                fragments,
                variables,
                spreads,
            )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in spreads:
                continue  # validation reports unknown and cyclic fragments
            condition = schema.get_type(fragment.type_condition.name.value)
            total += _cost(
                schema,
                condition if condition is not None else parent,
                fragment.selection_set,
                multiplier,
                fragments,
                variables,
                (*spreads, name),
            )
    return total


def _rows(field: FieldNode, arguments: GraphQLArgumentMap, variables: Mapping[str, Any]) -> int:
    """The rows a connection reads: `last` when given (a page read backward ignores `first`),
    else `first` or its default."""
    last = _argument(field, "last", None, variables) if "last" in arguments else None
    value = (
        last
        if last is not None
        else _argument(field, "first", arguments["first"].default_value, variables)
    )
    if not isinstance(value, int):
        value = MAX_PAGE_SIZE
    return max(1, min(value, MAX_PAGE_SIZE))


def _argument(field: FieldNode, name: str, default: Any, variables: Mapping[str, Any]) -> Any:
    value = default
    for argument in field.arguments or ():
        if argument.name.value != name:
            continue
        if isinstance(argument.value, IntValueNode):
            value = int(argument.value.value)
        elif isinstance(argument.value, NullValueNode):
            value = None  # read by the server as the most a page holds
        elif isinstance(argument.value, VariableNode):
            value = variables.get(argument.value.name.value, default)
    return value


def query_cost_limiter(max_cost: int) -> type[SchemaExtension]:
    """An extension that refuses, before anything runs, an operation costing over ``max_cost``."""

    class QueryCostLimiter(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None and context.result is None:
                cost = query_cost(
                    context.schema._schema, document, context.variables, context.operation_name
                )
                if cost > max_cost:
                    context.result = GraphQLExecutionResult(
                        data=None,
                        errors=[
                            GraphQLError(
                                f"The query asks for up to {cost} rows; the limit is {max_cost}. "
                                "Ask for fewer with `first`, or nest fewer connections.",
                                extensions={
                                    "code": QUERY_TOO_COSTLY,
                                    "cost": cost,
                                    "limit": max_cost,
                                },
                            )
                        ],
                    )
            yield

    return QueryCostLimiter


class ConcurrencyPerCredential:
    """At most N GraphQL requests running at once per panel member or platform key.

    One credential's burst should wait its turn, not take the pool from every other tenant;
    a request over the limit is refused at once (429 with Retry-After) so it holds nothing.
    The count is per process.
    """

    def __init__(self, *, panel: int, platform: int) -> None:
        self.panel = panel
        self.platform = platform
        self.running: Counter[tuple[str, Any]] = Counter()

    @asynccontextmanager
    async def slot(self, principal: Principal) -> AsyncIterator[None]:
        if isinstance(principal, PanelUser):
            key: tuple[str, Any] = ("panel", principal.member_id)
            limit = self.panel
        else:
            key, limit = ("platform", principal.key_id), self.platform
        if self.running[key] >= limit:
            raise RateLimited(
                f"This credential already has {limit} requests running; wait for one to finish.",
                retry_after=1,
            )
        self.running[key] += 1
        try:
            yield
        finally:
            self.running[key] -= 1
            if self.running[key] <= 0:
                del self.running[key]
