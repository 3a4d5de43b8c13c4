"""Leads: a request of a contact, its timeline, stage history, cart and assignment rules."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import (
    Enum,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    cast,
    event,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from embedcrm.db import Base, DocumentText, JSONDocument, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import fold, workspace_fk

if TYPE_CHECKING:
    from embedcrm.contacts.models import ContactRecord
    from embedcrm.pipelines.models import StageRecord
    from embedcrm.workspaces.models import MemberRecord


class LeadStatus(enum.StrEnum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


class LeadSort(enum.StrEnum):
    """The orders a list of leads comes in."""

    NEWEST = "NEWEST"
    # Open leads nobody has answered yet (the inbox's work), newest first, then the rest.
    UNANSWERED_FIRST = "UNANSWERED_FIRST"


@dataclass
class PageRelations:
    """What a page of leads names, read in the page's own statement when asked for (the
    panel's list shows each lead's contact, stage and assignee): filled in by the read, by id."""

    contact: bool = False
    stage: bool = False
    assignee: bool = False
    contacts: dict[uuid.UUID, ContactRecord] = field(default_factory=dict)
    stages: dict[uuid.UUID, StageRecord] = field(default_factory=dict)
    members: dict[uuid.UUID, MemberRecord] = field(default_factory=dict)


# An open lead no member has answered: a literal, so that PostgreSQL proves a statement
# using it matches the partial index below (a bound parameter would not).
WAITING_SQL = "status = 'OPEN' AND first_response_at IS NULL"


# What the funnel and the managers' report read of each lead created in a period, the
# report filters included.
COHORT_COLUMNS = [
    "pipeline_id",
    "stage_id",
    "past_stages",
    "site_id",
    "utm_source",
    "assignee_id",
    "status",
    "value",
    "first_response_at",
]


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        workspace_fk(["site_id"], "sites"),
        workspace_fk(["contact_id"], "contacts"),
        workspace_fk(["pipeline_id"], "pipelines"),
        workspace_fk(["stage_id"], "stages"),
        workspace_fk(["assignee_id"], "members"),
        # One index per list the panel shows, each ending in the keyset (created_at, id).
        # The first also carries what the reports read of the leads created in a period, so
        # that on PostgreSQL they read the index alone (migration 0008).
        Index(None, "workspace_id", "created_at", "id", postgresql_include=COHORT_COLUMNS),
        Index(None, "workspace_id", "stage_id", "created_at", "id"),
        Index(None, "workspace_id", "site_id", "created_at", "id"),
        Index(None, "workspace_id", "status", "created_at", "id"),
        Index(None, "workspace_id", "assignee_id", "created_at", "id"),
        Index(None, "workspace_id", "contact_id"),
        # A second import of the same file finds its leads instead of making new ones.
        Index(None, "workspace_id", "import_key", unique=True),
        # Value ranges at a stage (board sums, segment counts), answered from the index alone.
        Index(None, "workspace_id", "stage_id", "value"),
        # Words searched in a title (PostgreSQL only, migration 0021; SQLite scans).
        Index(
            "ix_leads_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        # The inbox's first run when unanswered leads come first: few rows, newest first.
        Index(
            "ix_leads_waiting",
            "workspace_id",
            "created_at",
            "id",
            postgresql_where=text(WAITING_SQL),
            sqlite_where=text(WAITING_SQL),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID]
    pipeline_id: Mapped[uuid.UUID]
    stage_id: Mapped[uuid.UUID]
    assignee_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[LeadStatus] = mapped_column(
        Enum(LeadStatus, native_enum=False, length=8), default=LeadStatus.OPEN
    )
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    # True once a person set the value; until then it follows the cart (the items' sum).
    value_set_by_hand: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Why the lead was won or lost, as given with the move that closed it; None while open.
    close_reason: Mapped[str | None] = mapped_column(Text)
    form: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # Attribution of the submission that made the lead (last touch) and of the visitor's first visit.
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    referrer: Mapped[str | None] = mapped_column(String(2000))
    landing_page: Mapped[str | None] = mapped_column(String(2000))
    click_ids: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    first_touch: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # Sequence of the last webhook event of this lead: receivers apply events in this order.
    event_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # How the lead reached the business (web form, call, chat), and its key in an imported file.
    channel: Mapped[str | None] = mapped_column(String(100))
    import_key: Mapped[str | None] = mapped_column(String(200))
    # The order on the client card: payment, delivery and its time window.
    payment_method: Mapped[str | None] = mapped_column(String(100))
    ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_method: Mapped[str | None] = mapped_column(String(100))
    delivery_address: Mapped[str | None] = mapped_column(Text)
    delivery_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    search_text: Mapped[str | None] = mapped_column(Text)
    # What the reports need of the lead's history, kept as it happens (migration 0008) so that
    # a report reads the period's leads once instead of their moves, tasks and activities:
    # when a member first answered (LeadRepository.refresh_first_response), when the lead
    # entered the stage it stands in (None: when it was created) and the stages it stood in
    # before (with_past_stage), both set by each move.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stage_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    past_stages: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LeadRecord(NamedTuple):
    """A lead as the lists of the panel show it: the columns its GraphQL type reads, as a plain
    tuple. A page of 50 leads read as ORM objects spent about a sixth of the request on their
    loading (identity map, instance state, instrumented attributes); read into these from the
    rows it costs a tuple each. Its stored documents stay text until shown (``DocumentText``).
    The ORM's ``Lead`` stays what changes leads."""

    workspace_id: uuid.UUID
    id: uuid.UUID
    site_id: uuid.UUID | None
    contact_id: uuid.UUID
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    assignee_id: uuid.UUID | None
    title: str
    status: LeadStatus
    value: Decimal | None
    currency: str | None
    value_set_by_hand: bool
    close_reason: str | None
    form: str | None
    message: str | None
    custom_fields: DocumentText
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    referrer: str | None
    landing_page: str | None
    click_ids: DocumentText
    first_touch: DocumentText
    channel: str | None
    payment_method: str | None
    ordered_at: datetime | None
    delivery_method: str | None
    delivery_address: str | None
    delivery_from: datetime | None
    delivery_to: datetime | None
    first_response_at: datetime | None
    created_at: datetime
    updated_at: datetime


def with_past_stage(past: str | None, stage_id: uuid.UUID) -> str:
    """``Lead.past_stages`` with one more stage: stage ids in hex, comma-separated, each once.

    A set of a few stages kept as text, so that leads can be grouped by it in SQL on both
    databases; ``stage_key`` finds a stage in it.
    """
    keys = past.split(",") if past else []
    if stage_id.hex not in keys:
        keys.append(stage_id.hex)
    return ",".join(keys)


def stage_key(stage_id: Any) -> ColumnElement[str]:
    """A stage id as SQL text in the form ``with_past_stage`` writes: hex without hyphens.

    SQLite keeps UUIDs as hex already; PostgreSQL prints them with hyphens.
    """
    return func.replace(cast(stage_id, String), "-", "")


@event.listens_for(Lead, "before_insert")
@event.listens_for(Lead, "before_update")
def _lead_search_text(_mapper: Any, _connection: Any, lead: Lead) -> None:
    lead.search_text = fold(lead.title)


class ActivityKind(enum.StrEnum):
    SUBMISSION = "SUBMISSION"
    NOTE = "NOTE"
    CALL = "CALL"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    MESSAGE = "MESSAGE"
    STAGE_CHANGE = "STAGE_CHANGE"


# What a member does that answers the client; moving a stage or the submission itself is not.
RESPONSE_KINDS = (
    ActivityKind.NOTE,
    ActivityKind.CALL,
    ActivityKind.EMAIL,
    ActivityKind.MEETING,
    ActivityKind.MESSAGE,
)


class Activity(Base):
    """One entry of the timeline of a contact and, when it concerns one, of a lead."""

    __tablename__ = "activities"
    __table_args__ = (
        workspace_fk(["contact_id"], "contacts", ondelete="CASCADE"),
        workspace_fk(["lead_id"], "leads", ondelete="CASCADE"),
        workspace_fk(["author_id"], "members"),
        Index(None, "workspace_id", "contact_id", "created_at", "id"),
        Index(None, "workspace_id", "lead_id", "created_at", "id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contact_id: Mapped[uuid.UUID]
    lead_id: Mapped[uuid.UUID | None]
    author_id: Mapped[uuid.UUID | None]
    kind: Mapped[ActivityKind] = mapped_column(Enum(ActivityKind, native_enum=False, length=16))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssignmentRuleKind(enum.StrEnum):
    BY_SITE = "BY_SITE"
    BY_SOURCE = "BY_SOURCE"
    ROUND_ROBIN = "ROUND_ROBIN"


class AssignmentRule(Base):
    """Who gets a new lead. Rules are tried in position order; the first that matches wins."""

    __tablename__ = "assignment_rules"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        workspace_fk(["site_id"], "sites", ondelete="CASCADE"),
        workspace_fk(["member_id"], "members", ondelete="CASCADE"),
        Index(None, "workspace_id", "position"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[AssignmentRuleKind] = mapped_column(
        Enum(AssignmentRuleKind, native_enum=False, length=16)
    )
    site_id: Mapped[uuid.UUID | None]
    utm_source: Mapped[str | None] = mapped_column(String(200))
    # The member a BY_SITE or BY_SOURCE rule gives the lead to; ROUND_ROBIN has none.
    member_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssignmentCursor(Base):
    """Where round-robin stands in a workspace: advanced atomically, one row per workspace."""

    __tablename__ = "assignment_cursors"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    counter: Mapped[int] = mapped_column(Integer, default=0)


class LeadStageChange(Base):
    """One move of a lead between stages: the source of funnels and time-in-stage.

    The stage columns carry no foreign key on purpose: a stage may be deleted later (its leads
    move on), and the history of what happened must outlive it, so its name is kept beside it.
    """

    __tablename__ = "lead_stage_changes"
    __table_args__ = (
        workspace_fk(["lead_id"], "leads", ondelete="CASCADE"),
        workspace_fk(["changed_by_id"], "members"),
        Index(None, "workspace_id", "lead_id", "changed_at"),
        Index(None, "workspace_id", "to_stage_id", "changed_at"),
        # The moves of the leads created in a period (the funnel's time in stage), read from
        # the index alone on PostgreSQL.
        Index(
            None,
            "workspace_id",
            "lead_created_at",
            postgresql_include=["lead_id", "from_stage_id", "changed_at", "entered_at"],
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    lead_id: Mapped[uuid.UUID]
    pipeline_id: Mapped[uuid.UUID]
    from_stage_id: Mapped[uuid.UUID | None]
    from_stage_name: Mapped[str | None] = mapped_column(String(200))
    to_stage_id: Mapped[uuid.UUID]
    to_stage_name: Mapped[str] = mapped_column(String(200))
    changed_by_id: Mapped[uuid.UUID | None]
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the lead entered the stage this move leaves (its creation, for the first stage),
    # and when the lead was created: a stay is then one row, and the moves of the leads
    # created in a period one index range (migration 0008).
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lead_created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LeadItem(Base):
    """A line of the lead's cart."""

    __tablename__ = "lead_items"
    __table_args__ = (
        workspace_fk(["lead_id"], "leads", ondelete="CASCADE"),
        workspace_fk(["product_id"], "products"),
        Index(None, "workspace_id", "lead_id", "position"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    lead_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(Integer)
    # The catalogue product the line was picked from, if any. The name, SKU and prices below
    # are a snapshot taken then: a later price change leaves the carts already made alone.
    product_id: Mapped[uuid.UUID | None]
    product: Mapped[str] = mapped_column(String(300))
    sku: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # Cost of goods for one unit: what makes deal profitability computable.
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
