"""Output types. Each wraps a row and resolves relations through the request's DataLoaders."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.contacts import models as contact_models
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import to_global_id
from embedcrm.leads import models as lead_models
from embedcrm.pipelines import models as pipeline_models
from embedcrm.workspaces import models as ws

if TYPE_CHECKING:
    from embedcrm.graphql.work_types import Activity, LeadItem, LeadOrder, StageChange, Tag, Task

# The CRM workspace's types live in their own module, which imports this one.
WORK = "embedcrm.graphql.work_types"

Role = strawberry.enum(ws.Role, name="Role")
LeadStatus = strawberry.enum(lead_models.LeadStatus, name="LeadStatus")
StageKind = strawberry.enum(pipeline_models.StageKind, name="StageKind")


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


@strawberry.type
class UserError:
    """A business error: the input was understood but cannot be applied."""

    field: str | None
    message: str
    code: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Any]

    @strawberry.field(description="The number of items matching the filter, over all pages.")
    async def total_count(self) -> int:
        return int(await self._count())


@strawberry.type
class Workspace(Node):
    name: str
    external_id: str | None
    timezone: str
    currency: str = strawberry.field(description="ISO 4217 code of values given without one.")
    language: str = strawberry.field(description="ru or en: of the names the service writes.")
    created_at: datetime

    @classmethod
    def of(cls, row: ws.Workspace) -> Workspace:
        return cls(
            id=strawberry.ID(to_global_id("Workspace", row.id, row.id)),
            name=row.name,
            external_id=row.external_id,
            timezone=row.timezone,
            currency=row.currency,
            language=row.language,
            created_at=row.created_at,
        )


@strawberry.type
class Site(Node):
    name: str
    public_key: str
    domains: list[str]
    language: str
    phone_region: str
    created_at: datetime
    _widget_src: strawberry.Private[str]
    _widget_integrity: strawberry.Private[str]

    @strawberry.field(
        description="The one line the host puts into every page of this site. It names the "
        "widget's versioned path, whose bytes never change, so its SRI hash always holds."
    )
    def embed_snippet(self) -> str:
        return (
            f'<script src="{self._widget_src}" data-site="{self.public_key}" '
            f'integrity="{self._widget_integrity}" crossorigin="anonymous" async></script>'
        )

    @classmethod
    def of(cls, row: ws.Site, *, widget_src: str, widget_integrity: str) -> Site:
        return cls(
            id=strawberry.ID(to_global_id("Site", row.workspace_id, row.id)),
            name=row.name,
            public_key=row.public_key,
            domains=list(row.domains),
            language=row.language,
            phone_region=row.phone_region,
            created_at=row.created_at,
            _widget_src=widget_src,
            _widget_integrity=widget_integrity,
        )


@strawberry.type
class Member(Node):
    external_id: str
    name: str
    email: str | None
    role: Role  # type: ignore[valid-type]
    active: bool = strawberry.field(
        description="False once deactivated: their tokens stop working, nothing new is "
        "assigned to them, and what they did stays."
    )

    @classmethod
    def of(cls, row: ws.Member) -> Member:
        return cls(
            id=strawberry.ID(to_global_id("Member", row.workspace_id, row.id)),
            external_id=row.external_id,
            name=row.name,
            email=row.email,
            role=row.role,
            active=row.active,
        )


@strawberry.type
class Stage(Node):
    name: str
    position: int
    probability: int
    kind: StageKind  # type: ignore[valid-type]

    @classmethod
    def of(cls, row: pipeline_models.Stage) -> Stage:
        return cls(
            id=strawberry.ID(to_global_id("Stage", row.workspace_id, row.id)),
            name=row.name,
            position=row.position,
            probability=row.probability,
            kind=row.kind,
        )


@strawberry.type
class Pipeline(Node):
    name: str
    is_default: bool
    stages: list[Stage]


@strawberry.type
class Contact(Node):
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    custom_fields: JSON
    first_touch: JSON = strawberry.field(description="Where the person first came from.")
    last_touch: JSON = strawberry.field(description="Where their latest lead came from.")
    created_at: datetime

    _row: strawberry.Private[contact_models.Contact]

    @strawberry.field(description="The client's personal manager.")
    async def manager(self, info: Info) -> Member | None:
        if self._row.manager_id is None:
            return None
        row = await info.context.loaders.members.load(
            (self._row.workspace_id, self._row.manager_id)
        )
        return Member.of(row) if row else None

    @strawberry.field
    async def tags(self, info: Info) -> list[Annotated[Tag, strawberry.lazy(WORK)]]:
        from embedcrm.graphql.work_types import contact_tags

        return await contact_tags(info, self._row)

    @strawberry.field(description="The contact's leads, newest first.")
    async def leads(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Lead]:
        from embedcrm.graphql.work_types import contact_leads

        return await contact_leads(info, self._row, first=first, after=after)

    @strawberry.field(description="Everything that happened with the person, newest first.")
    async def timeline(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Annotated[Activity, strawberry.lazy(WORK)]]:
        from embedcrm.graphql.work_types import timeline

        return await timeline(info, self._row, lead=False, first=first, after=after)

    @strawberry.field
    async def tasks(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Annotated[Task, strawberry.lazy(WORK)]]:
        from embedcrm.graphql.work_types import tasks_of

        return await tasks_of(info, self._row, lead=False, first=first, after=after)

    @classmethod
    def of(cls, row: contact_models.Contact) -> Contact:
        return cls(
            id=strawberry.ID(to_global_id("Contact", row.workspace_id, row.id)),
            name=row.name,
            email=row.email_normalized or row.email,
            phone=row.phone_e164 or row.phone,
            company=row.company,
            custom_fields=cast(JSON, row.custom_fields),
            first_touch=cast(JSON, row.first_touch),
            last_touch=cast(JSON, row.last_touch),
            created_at=row.created_at,
            _row=row,
        )


@strawberry.type(description="Where a lead came from: its last touch, and the visitor's first.")
class LeadSource:
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    referrer: str | None
    landing_page: str | None
    click_ids: JSON
    first_touch: JSON


@strawberry.type
class Lead(Node):
    title: str
    status: LeadStatus  # type: ignore[valid-type]
    form: str | None
    message: str | None
    value: str | None
    currency: str | None
    custom_fields: JSON
    source: LeadSource
    created_at: datetime
    updated_at: datetime
    _row: strawberry.Private[lead_models.Lead]

    @strawberry.field
    async def contact(self, info: Info) -> Contact | None:
        row = await info.context.loaders.contacts.load(
            (self._row.workspace_id, self._row.contact_id)
        )
        return Contact.of(row) if row else None

    @strawberry.field
    async def stage(self, info: Info) -> Stage | None:
        row = await info.context.loaders.stages.load((self._row.workspace_id, self._row.stage_id))
        return Stage.of(row) if row else None

    @strawberry.field
    async def assignee(self, info: Info) -> Member | None:
        if self._row.assignee_id is None:
            return None
        row = await info.context.loaders.members.load(
            (self._row.workspace_id, self._row.assignee_id)
        )
        return Member.of(row) if row else None

    @strawberry.field(description="How the lead reached the business: web form, call, chat.")
    def channel(self) -> str | None:
        return self._row.channel

    @strawberry.field(
        description="Why it was won or lost, as given with the move; null while open."
    )
    def close_reason(self) -> str | None:
        return self._row.close_reason

    @strawberry.field(
        description="True once a person set the value; until then it follows the cart."
    )
    def value_set_by_hand(self) -> bool:
        return bool(self._row.value_set_by_hand)

    @strawberry.field
    def pipeline_id(self) -> strawberry.ID:
        return strawberry.ID(
            to_global_id("Pipeline", self._row.workspace_id, self._row.pipeline_id)
        )

    @strawberry.field(description="Payment and delivery of the order.")
    def order(self) -> Annotated[LeadOrder, strawberry.lazy(WORK)]:
        from embedcrm.graphql.work_types import lead_order

        return lead_order(self._row)

    @strawberry.field(description="The cart.")
    async def items(self, info: Info) -> list[Annotated[LeadItem, strawberry.lazy(WORK)]]:
        from embedcrm.graphql.work_types import lead_items

        return await lead_items(info, self._row)

    @strawberry.field(description="The sum of the cart's line totals, as a decimal string.")
    async def items_total(self, info: Info) -> str:
        from embedcrm.graphql.work_types import lead_items_total

        return await lead_items_total(info, self._row)

    @strawberry.field
    async def tags(self, info: Info) -> list[Annotated[Tag, strawberry.lazy(WORK)]]:
        from embedcrm.graphql.work_types import lead_tags

        return await lead_tags(info, self._row)

    @strawberry.field(description="Notes, calls, e-mails, meetings, messages, stage changes.")
    async def timeline(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Annotated[Activity, strawberry.lazy(WORK)]]:
        from embedcrm.graphql.work_types import timeline

        return await timeline(info, self._row, lead=True, first=first, after=after)

    @strawberry.field(description="Every move between stages, oldest first.")
    async def stage_history(
        self, info: Info
    ) -> list[Annotated[StageChange, strawberry.lazy(WORK)]]:
        from embedcrm.graphql.work_types import stage_history

        return await stage_history(info, self._row)

    @strawberry.field
    async def tasks(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Annotated[Task, strawberry.lazy(WORK)]]:
        from embedcrm.graphql.work_types import tasks_of

        return await tasks_of(info, self._row, lead=True, first=first, after=after)

    @strawberry.field
    def site_id(self) -> strawberry.ID | None:
        row = self._row
        if row.site_id is None:
            return None
        return strawberry.ID(to_global_id("Site", row.workspace_id, row.site_id))

    @classmethod
    def of(cls, row: lead_models.Lead) -> Lead:
        return cls(
            id=strawberry.ID(to_global_id("Lead", row.workspace_id, row.id)),
            title=row.title,
            status=row.status,
            form=row.form,
            message=row.message,
            value=None if row.value is None else str(row.value),
            currency=row.currency,
            custom_fields=cast(JSON, row.custom_fields),
            source=LeadSource(
                utm_source=row.utm_source,
                utm_medium=row.utm_medium,
                utm_campaign=row.utm_campaign,
                utm_term=row.utm_term,
                utm_content=row.utm_content,
                referrer=row.referrer,
                landing_page=row.landing_page,
                click_ids=cast(JSON, row.click_ids),
                first_touch=cast(JSON, row.first_touch),
            ),
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )
