"""The schema: each domain's queries and mutations merged in one order, with its limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLObjectType, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition

from embedcrm.auth import PanelUser, Platform
from embedcrm.config import Settings
from embedcrm.errors import EmbedCRMError, NotFound
from embedcrm.graphql.alerts.schema import AlertMutation, AlertQuery
from embedcrm.graphql.analytics.schema import TYPES as ANALYTICS_TYPES
from embedcrm.graphql.analytics.schema import AnalyticsMutation, AnalyticsQuery
from embedcrm.graphql.capture.schema import CaptureMutation, CaptureQuery
from embedcrm.graphql.capture.types import Submission
from embedcrm.graphql.catalog.schema import CatalogMutation, CatalogQuery
from embedcrm.graphql.catalog.types import Product
from embedcrm.graphql.commission.schema import CommissionMutation, CommissionQuery
from embedcrm.graphql.contacts.schema import (
    ContactExportQuery,
    ContactMutation,
    ContactQuery,
    MergeMutation,
    MergeQuery,
)
from embedcrm.graphql.contacts.types import Contact, ContactMerge, MergeProposal
from embedcrm.graphql.context import Context, Info
from embedcrm.graphql.core import Node
from embedcrm.graphql.exchange.schema import ExchangeMutation, ExchangeQuery
from embedcrm.graphql.failures import LoggedSchema
from embedcrm.graphql.feedback.schema import FeedbackQuery
from embedcrm.graphql.fields.schema import FieldMutation, FieldQuery, TagMutation
from embedcrm.graphql.fields.types import CustomField, Segment, Tag
from embedcrm.graphql.forms.schema import TYPES as FORM_TYPES
from embedcrm.graphql.forms.schema import FormMutation, FormQuery
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.imports.schema import ImportMutation
from embedcrm.graphql.invoices.schema import InvoiceMutation, InvoiceQuery
from embedcrm.graphql.invoices.types import Invoice
from embedcrm.graphql.leads.schema import ActivityMutation, LeadExportQuery, LeadMutation, LeadQuery
from embedcrm.graphql.leads.types import Activity, Lead
from embedcrm.graphql.limits import query_cost_limiter
from embedcrm.graphql.messages.schema import MessageMutation, MessageQuery
from embedcrm.graphql.nodes import load_node
from embedcrm.graphql.panel import PanelQuery
from embedcrm.graphql.pipelines.schema import PipelineMutation, PipelineQuery
from embedcrm.graphql.pipelines.types import Pipeline, Stage
from embedcrm.graphql.privacy.schema import PrivacyMutation, PrivacyQuery
from embedcrm.graphql.privacy.types import Erasure
from embedcrm.graphql.tasks.schema import TaskMutation, TaskQuery
from embedcrm.graphql.tasks.types import Task
from embedcrm.graphql.webhooks.schema import TYPES as WEBHOOK_TYPES
from embedcrm.graphql.webhooks.schema import WebhookMutation, WebhookQuery
from embedcrm.graphql.workspaces.schema import (
    CrmSettingsMutation,
    SiteQuery,
    WorkspaceMutation,
    WorkspaceQuery,
)
from embedcrm.graphql.workspaces.types import Member, Site, Workspace
from embedcrm.panel import PanelComponents
from embedcrm.workspaces.models import Role


@strawberry.type
class CoreQuery:
    @strawberry.field(description="Answers `pong`: a cheap check that the API and auth work.")
    def ping(self) -> str:
        return "pong"

    @strawberry.field(description="Any object by its global id; foreign and unknown ids are null.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        try:
            gid = parse_global_id(id)
        except NotFound:
            return None
        if not info.context.can_see(gid.workspace_id):
            return None
        return await load_node(info, gid)


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected errors only; validation and expected errors stay readable."""
    original = error.original_error
    # A GraphQLError as the cause is graphql-core refusing a variable (an Int over 2^31): the
    # caller's mistake, worded by graphql-core for the caller.
    return original is not None and not isinstance(original, EmbedCRMError | GraphQLError)


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
INTROSPECTION_DISABLED = "introspection_disabled"


def may_introspect(context: Context) -> bool:
    """Platform keys and OWNER panel tokens read the schema (it is published in schema/ anyway);
    MANAGER and VIEWER tokens, the narrowest a browser holds, do not. GraphiQL opens it to all."""
    principal = context.principal
    if context.settings.graphiql or isinstance(principal, Platform):
        return True
    return isinstance(principal, PanelUser) and principal.role is Role.OWNER


class IntrospectionForOwners(SchemaExtension):
    """Refuse ``__schema`` and ``__type`` to a caller that may not introspect, before anything
    runs, and drop graphql-core's "Did you mean 'leads'?" hints for it, which would otherwise
    spell out the schema one guess at a time."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None and not may_introspect(context.context):
            refused = validate(context.schema._schema, document, [NoSchemaIntrospectionCustomRule])
            if refused:
                context.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            "Introspection is open to platform keys and OWNER panel tokens; "
                            "this credential may not read the schema (it is published as "
                            "schema/schema.graphql).",
                            extensions={"code": INTROSPECTION_DISABLED},
                        )
                    ],
                )
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors = getattr(context.result, "errors", None)
        if not errors or context.context is None or may_introspect(context.context):
            return
        context.result.errors = [  # type: ignore[union-attr]
            GraphQLError(
                message=_SUGGESTION.sub("", error.message),
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=error.original_error,
                extensions=error.extensions,
            )
            if _SUGGESTION.search(error.message)
            else error
            for error in errors
        ]


# Each domain contributes its own query and mutation fields, merged here in the order the
# exported SDL has always listed them.
QUERY_PARTS: tuple[type, ...] = (
    CoreQuery,
    WorkspaceQuery,
    PipelineQuery,
    SiteQuery,
    LeadQuery,
    ContactQuery,
    CaptureQuery,
    WebhookQuery,
    TaskQuery,
    FieldQuery,
    MergeQuery,
    LeadExportQuery,
    ContactExportQuery,
    PrivacyQuery,
    FormQuery,
    AnalyticsQuery,
    PanelQuery,
    CatalogQuery,
    InvoiceQuery,
    ExchangeQuery,
    CommissionQuery,
    MessageQuery,
    AlertQuery,
    FeedbackQuery,
)
MUTATION_PARTS: tuple[type, ...] = (
    WorkspaceMutation,
    CaptureMutation,
    WebhookMutation,
    PipelineMutation,
    LeadMutation,
    ContactMutation,
    ActivityMutation,
    TagMutation,
    TaskMutation,
    FieldMutation,
    CrmSettingsMutation,
    MergeMutation,
    ImportMutation,
    PrivacyMutation,
    FormMutation,
    AnalyticsMutation,
    CatalogMutation,
    InvoiceMutation,
    ExchangeMutation,
    CommissionMutation,
    MessageMutation,
    AlertMutation,
)
# Types reached only through the Node interface or a union.
TYPES = [
    Workspace,
    Site,
    Member,
    Stage,
    Pipeline,
    Contact,
    Lead,
    Submission,
    *WEBHOOK_TYPES,
    Tag,
    Activity,
    Task,
    CustomField,
    Segment,
    MergeProposal,
    ContactMerge,
    Erasure,
    *FORM_TYPES,
    *ANALYTICS_TYPES,
    Product,
    Invoice,
]
Query = merge_types("Query", QUERY_PARTS)
Mutation = merge_types("Mutation", MUTATION_PARTS)


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with its limits; extensions are passed as factories, one instance per request.

    The depth and alias rules are built once and shared: strawberry's validation cache is keyed
    by the rule classes, and a limiter made per request would make new ones every time, so
    every document would be validated again (about 1 ms of CPU each).
    """
    rules = [
        *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
    ]
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        IntrospectionForOwners,
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=256),
        query_cost_limiter(settings.graphql_max_cost),
        PanelComponents,
        lambda: MaskErrors(should_mask_error=_should_mask),
    ]
    schema = LoggedSchema(
        query=Query,
        mutation=Mutation,
        types=TYPES,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )
    resolve_directly(schema, ROW_RELATIONS)
    return schema


# The relations every row of a list names, each resolved once per row (150 fields on a page of
# 50 leads) from what the list loaded ahead: graphql-core calls their resolvers itself.
ROW_RELATIONS: tuple[tuple[type, str], ...] = (
    (Lead, "contact"),
    (Lead, "stage"),
    (Lead, "assignee"),
    (Contact, "manager"),
)


def resolve_directly(schema: strawberry.Schema, fields: Iterable[tuple[type, str]]) -> None:
    """Have graphql-core call these fields' resolvers as they are, without strawberry's wrapper
    around each call (a strawberry Info made, the arguments converted, the field extensions
    chained: about 15 Python calls a field, which the resolver does not use).

    Only a resolver with no arguments and no permission class or field extension qualifies,
    one that reads nothing of ``info`` but ``info.context``: graphql-core's info has that too.
    """
    for cls, name in fields:
        definition = get_object_definition(cls, strict=True)
        field = next(f for f in definition.fields if f.python_name == name)
        if (
            field.base_resolver is None
            or field.base_resolver.is_async
            or field.arguments
            or field.permission_classes
            or field.extensions
        ):
            raise ValueError(f"{definition.name}.{name} is not a plain resolver")
        graphql_type = schema._schema.get_type(definition.name)
        assert isinstance(graphql_type, GraphQLObjectType)
        graphql_name = schema.config.name_converter.get_graphql_name(field)
        graphql_type.fields[graphql_name].resolve = field.base_resolver.wrapped_func


def print_schema() -> str:
    """The SDL as exported to schema/schema.graphql."""
    return strawberry.Schema(query=Query, mutation=Mutation, types=TYPES).as_str()
