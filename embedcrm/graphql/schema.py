"""The schema: queries and mutations, each an adapter from its arguments to one service call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
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

from embedcrm.config import Settings
from embedcrm.errors import EmbedCRMError, NotFound
from embedcrm.graphql.analytics import TYPES as ANALYTICS_TYPES
from embedcrm.graphql.analytics import AnalyticsMutation, AnalyticsQuery
from embedcrm.graphql.capture import CaptureMutation, CaptureQuery, Submission
from embedcrm.graphql.context import Info
from embedcrm.graphql.crm import TYPES as CRM_TYPES
from embedcrm.graphql.crm import CrmMutation, CrmQuery, load_work_node
from embedcrm.graphql.failures import LoggedSchema
from embedcrm.graphql.forms import TYPES as FORM_TYPES
from embedcrm.graphql.forms import FormMutation, FormQuery
from embedcrm.graphql.ids import GlobalId, parse_global_id
from embedcrm.graphql.limits import query_cost_limiter
from embedcrm.graphql.support import (
    DEFAULT_PAGE_SIZE,
    as_payload,
    connection,
    optional_id,
    site_type,
    workspace_arg,
)
from embedcrm.graphql.types import (
    Connection,
    Contact,
    Lead,
    LeadStatus,
    Member,
    Node,
    Pipeline,
    Role,
    Site,
    Stage,
    UserError,
    Workspace,
)
from embedcrm.graphql.webhooks import TYPES as WEBHOOK_TYPES
from embedcrm.graphql.webhooks import WebhookMutation, WebhookQuery
from embedcrm.graphql.work_inputs import (
    ContactFilter,
    CustomFieldFilter,
    contact_spec,
    lead_spec,
    scoped_id,
)


@strawberry.input
class LeadFilter:
    site_id: strawberry.ID | None = None
    status: LeadStatus | None = None  # type: ignore[valid-type]
    stage_id: strawberry.ID | None = None
    assignee_id: strawberry.ID | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    pipeline_id: strawberry.ID | None = None
    unassigned: bool = False
    contact_id: strawberry.ID | None = None
    channel: str | None = None
    close_reason: str | None = strawberry.field(
        default=None, description="Won or lost with this reason (as given, exactly)."
    )
    tags: list[str] | None = strawberry.field(default=None, description="Has every one of these.")
    search: str | None = strawberry.field(
        default=None, description="Title, or the contact's name, e-mail, phone or company."
    )
    value_min: str | None = None
    value_max: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    custom: list[CustomFieldFilter] | None = None


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
        return await _load_node(info, gid)

    @strawberry.field
    async def workspace(self, info: Info, id: strawberry.ID | None = None) -> Workspace | None:
        requested = optional_id(id, "Workspace", "id")
        workspace_id = info.context.workspace_for(requested.row_id if requested else None)
        try:
            row = await info.context.services.workspaces.get_workspace(
                info.context.principal, workspace_id
            )
        except NotFound:
            return None
        return Workspace.of(row)

    @strawberry.field
    async def pipelines(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[Pipeline]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.pipelines.pipelines(workspace)
        return [_pipeline(p, stages) for p, stages in rows]

    @strawberry.field
    async def sites(self, info: Info, workspace_id: strawberry.ID | None = None) -> list[Site]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.workspaces.list_sites(workspace)
        return [site_type(info, row) for row in rows]

    @strawberry.field(description="Leads, newest first.")
    async def leads(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: LeadFilter | None = None,
        workspace_id: strawberry.ID | None = None,
        segment_id: strawberry.ID | None = None,
    ) -> Connection[Lead]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        spec = lead_spec(filter, workspace)
        segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
        lists, principal = info.context.services.lists, info.context.principal
        page = await lists.leads_page(
            principal, workspace, spec, segment_id=segment, first=first, after=after
        )
        return connection(
            page,
            Lead.of,
            lambda: lists.count_leads(principal, workspace, spec, segment_id=segment),
        )

    @strawberry.field(description="Contacts, newest first.")
    async def contacts(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        workspace_id: strawberry.ID | None = None,
        filter: ContactFilter | None = None,
        segment_id: strawberry.ID | None = None,
    ) -> Connection[Contact]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        spec = contact_spec(filter, workspace)
        segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
        lists, principal = info.context.services.lists, info.context.principal
        page = await lists.contacts_page(
            principal, workspace, spec, segment_id=segment, first=first, after=after
        )
        return connection(
            page,
            Contact.of,
            lambda: lists.count_contacts(principal, workspace, spec, segment_id=segment),
        )


def _pipeline(row: Any, stages: list[Any]) -> Pipeline:
    return Pipeline(
        id=strawberry.ID(GlobalId("Pipeline", row.workspace_id, row.id).encode()),
        name=row.name,
        is_default=row.is_default,
        stages=[Stage.of(s) for s in stages],
    )


async def _load_node(info: Info, gid: GlobalId) -> Node | None:
    context = info.context
    key = (gid.workspace_id, gid.row_id)
    if gid.type_name == "Lead":
        try:
            row = await context.services.leads.visible_lead(
                context.principal, gid.workspace_id, gid.row_id
            )
        except NotFound:
            return None
        return Lead.of(row) if row else None
    if gid.type_name == "Contact":
        contact = await context.loaders.contacts.load(key)
        return Contact.of(contact) if contact else None
    if gid.type_name == "Stage":
        stage = await context.loaders.stages.load(key)
        return Stage.of(stage) if stage else None
    if gid.type_name == "Member":
        member = await context.loaders.members.load(key)
        return Member.of(member) if member else None
    if gid.type_name == "Site":
        site = await context.services.workspaces.site_by_id(gid.workspace_id, gid.row_id)
        return site_type(info, site) if site else None
    if gid.type_name == "Workspace":
        try:
            workspace = await context.services.workspaces.get_workspace(
                context.principal, gid.workspace_id
            )
        except NotFound:
            return None
        return Workspace.of(workspace)
    return await load_work_node(info, gid)


# ---- mutations -------------------------------------------------------------------------------


@strawberry.input
class CreateWorkspaceInput:
    name: str
    external_id: str | None = strawberry.field(
        default=None,
        description="The host's own id: calling again with it answers the same workspace.",
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code of values given without one; RUB if omitted."
    )
    language: str | None = strawberry.field(
        default=None,
        description="ru or en: the language of the names the service writes (titles of pushed "
        "leads, report labels); ru if omitted.",
    )


@strawberry.type
class CreateWorkspacePayload:
    workspace: Workspace | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateSiteInput:
    workspace_id: strawberry.ID
    name: str
    domains: list[str]
    language: str = "ru"
    phone_region: str = strawberry.field(
        default="RU", description="Country whose local phone format visitors use."
    )


@strawberry.type
class CreateSitePayload:
    site: Site | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PanelMemberInput:
    external_id: str
    name: str = ""
    email: str | None = None


@strawberry.input
class IssuePanelTokenInput:
    workspace_id: strawberry.ID
    member: PanelMemberInput
    role: Role  # type: ignore[valid-type]
    ttl_seconds: int = 900


@strawberry.type
class IssuePanelTokenPayload:
    token: str | None = None
    expires_at: datetime | None = None
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CoreMutation:
    @strawberry.mutation(description="Create a workspace, or answer the one with this externalId.")
    async def create_workspace(
        self, info: Info, input: CreateWorkspaceInput
    ) -> CreateWorkspacePayload:
        services = info.context.services
        return await as_payload(
            lambda: services.workspaces.create_workspace(
                info.context.principal,
                name=input.name,
                external_id=input.external_id,
                currency=input.currency,
                language=input.language,
            ),
            lambda row: CreateWorkspacePayload(workspace=Workspace.of(row)),
            lambda errors: CreateWorkspacePayload(user_errors=errors),
        )

    @strawberry.mutation
    async def create_site(self, info: Info, input: CreateSiteInput) -> CreateSitePayload:
        services = info.context.services

        async def call() -> Any:
            workspace = parse_global_id(
                input.workspace_id, expected="Workspace", field="workspaceId"
            )
            return await services.workspaces.create_site(
                info.context.principal,
                workspace_id=workspace.row_id,
                name=input.name,
                domains=input.domains,
                language=input.language,
                phone_region=input.phone_region,
            )

        return await as_payload(
            call,
            lambda row: CreateSitePayload(site=site_type(info, row)),
            lambda errors: CreateSitePayload(user_errors=errors),
        )

    @strawberry.mutation(description="A short-lived token for one member's panel session.")
    async def issue_panel_token(
        self, info: Info, input: IssuePanelTokenInput
    ) -> IssuePanelTokenPayload:
        services = info.context.services

        async def call() -> Any:
            workspace = parse_global_id(
                input.workspace_id, expected="Workspace", field="workspaceId"
            )
            return await services.workspaces.issue_panel_token(
                info.context.principal,
                workspace_id=workspace.row_id,
                member_external_id=input.member.external_id,
                member_name=input.member.name,
                member_email=input.member.email,
                role=input.role,
                ttl_seconds=input.ttl_seconds,
            )

        return await as_payload(
            call,
            lambda issued: IssuePanelTokenPayload(
                token=issued.token, expires_at=issued.expires_at, member=Member.of(issued.member)
            ),
            lambda errors: IssuePanelTokenPayload(user_errors=errors),
        )

    @strawberry.mutation(
        description="A member who left (platform or OWNER): their tokens stop working and "
        "nothing new is assigned to them; their history and leads stay."
    )
    async def deactivate_member(self, info: Info, input: MemberInput) -> MemberPayload:
        return await _set_member_active(info, input, active=False)

    @strawberry.mutation(description="Undo deactivateMember (platform or OWNER).")
    async def reactivate_member(self, info: Info, input: MemberInput) -> MemberPayload:
        return await _set_member_active(info, input, active=True)


@strawberry.input
class MemberInput:
    member_id: strawberry.ID


@strawberry.type
class MemberPayload:
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _set_member_active(info: Info, input: MemberInput, *, active: bool) -> MemberPayload:
    async def call() -> Any:
        gid = parse_global_id(input.member_id, expected="Member", field="memberId")
        return await info.context.services.workspaces.set_member_active(
            info.context.principal, gid.workspace_id, gid.row_id, active
        )

    return await as_payload(
        call,
        lambda member: MemberPayload(member=Member.of(member)),
        lambda errors: MemberPayload(user_errors=errors),
    )


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected errors only; validation and expected errors stay readable."""
    original = error.original_error
    return original is not None and not isinstance(original, EmbedCRMError)


# Each area of the API contributes its own query and mutation fields, merged here.
QUERY_PARTS: tuple[type, ...] = (
    CoreQuery,
    CaptureQuery,
    WebhookQuery,
    CrmQuery,
    FormQuery,
    AnalyticsQuery,
)
MUTATION_PARTS: tuple[type, ...] = (
    CoreMutation,
    CaptureMutation,
    WebhookMutation,
    CrmMutation,
    FormMutation,
    AnalyticsMutation,
)
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
    *CRM_TYPES,
    *FORM_TYPES,
    *ANALYTICS_TYPES,
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
    if not settings.graphiql:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=256),
        query_cost_limiter(settings.graphql_max_cost),
        lambda: MaskErrors(should_mask_error=_should_mask),
    ]
    return LoggedSchema(
        query=Query,
        mutation=Mutation,
        types=TYPES,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )


def print_schema() -> str:
    """The SDL as exported to schema/schema.graphql."""
    return strawberry.Schema(query=Query, mutation=Mutation, types=TYPES).as_str()
