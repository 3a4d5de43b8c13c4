"""One typed class per event type: the single definition of each webhook body.

Every class is a ``TypedDict`` describing the body exactly as it travels (``{"type", "timestamp",
"data"}``), its docstring is the event's description, and ``python -m embedcrm.events`` writes
``webhooks/schemas/<type>.json`` from it. Objects of a fixed shape are closed in those schemas
(``additionalProperties: false``), so a payload that gains a property its class lacks fails the
tests that validate every emitted event; free-form maps (``Mapping[str, Any]``) stay open. The
functions that build the lead, contact and task objects return these classes, so mypy already
refuses a key the class lacks there.

Field metadata (a description, a minimum length…) rides on the annotation as :class:`Meta`.
The names of ``$defs`` are the class names in snake case without the ``Payload`` suffix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired, TypedDict, get_args, get_type_hints

__all__ = [
    "ALL_EVENT_CLASSES",
    "ALL_EVENT_TYPES",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "OPERATIONAL_EVENT_CLASSES",
    "OPERATIONAL_EVENT_TYPES",
    "Meta",
    "event_class",
    "event_type_of",
]


@dataclass(frozen=True)
class Meta:
    """JSON Schema keywords for one annotated field, written after its type."""

    min_length: int | None = None
    minimum: int | None = None
    format: str | None = None
    description: str | None = None


# ---- field types ----------------------------------------------------------------------------

# Ids of objects are the global ids GraphQL returns: `node(id:)` resolves every one of them.
_GLOBAL = "The object's GraphQL global id; `node(id:)` resolves it."
Id = Annotated[str, Meta(min_length=1, description=_GLOBAL)]
OptionalId = Annotated[str | None, Meta(min_length=1, description=_GLOBAL)]
# A non-empty code or name that is not an object's id (a reason, a template).
Code = Annotated[str, Meta(min_length=1)]
Timestamp = Annotated[str, Meta(format="date-time")]
WorkspaceId = Annotated[
    str, Meta(min_length=1, description="The workspace's GraphQL global id (`Workspace.id`).")
]
WorkspaceExternalId = Annotated[
    str | None,
    Meta(description="The host's own id of the workspace (`Workspace.externalId`), or null."),
]
SiteId = Annotated[str | None, Meta(min_length=1, description="The site's GraphQL global id.")]
# Operational events and test deliveries may concern an endpoint that belongs to no workspace.
EndpointWorkspaceId = Annotated[
    str | None,
    Meta(description="The workspace's GraphQL global id; null for a platform-wide endpoint."),
]
EndpointWorkspaceExternalId = Annotated[
    str | None,
    Meta(description="The host's own id of the workspace; null for a platform-wide endpoint."),
]
LeadSequence = Annotated[
    int,
    Meta(
        minimum=1,
        description=(
            "Grows by one per event of the same lead; apply events of a lead in this order."
        ),
    ),
]
LeadStatusName = Literal["open", "won", "lost"]
EventTimestamp = Annotated[
    str,
    Meta(
        format="date-time",
        description="When the event happened (UTC, ISO 8601); the same on every retry.",
    ),
]


# ---- objects inside data --------------------------------------------------------------------


class StagePayload(TypedDict):
    id: Id
    name: str


class LeadSourcePayload(TypedDict):
    """Where the lead came from: the UTM tags, referrer and landing page of its submission."""

    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    referrer: str | None
    landing_page: str | None


class LeadPayload(TypedDict):
    id: Id
    title: str
    status: LeadStatusName
    stage: StagePayload
    value: Annotated[
        str | None,
        Meta(
            description="Decimal amount as a string, so that no receiver rounds it through a float."
        ),
    ]
    currency: Annotated[str | None, Meta(description="ISO 4217 code.")]
    contact_id: OptionalId
    assignee_id: OptionalId
    site_id: Annotated[
        str | None, Meta(min_length=1, description="The site the lead came from, or null.")
    ]
    source: LeadSourcePayload
    created_at: Timestamp


class ContactPointPayload(TypedDict):
    value: Annotated[str, Meta(description="As entered.")]
    normalized: Annotated[
        str | None,
        Meta(description="The e-mail lower-cased, the phone in E.164; null if unreadable."),
    ]
    label: str | None
    primary: Annotated[bool, Meta(description="The one `email` / `phone` above shows.")]


class ContactPayload(TypedDict):
    id: Id
    name: str | None
    email: str | None
    phone: Annotated[str | None, Meta(description="E.164 when it could be normalised.")]
    company: str | None
    emails: NotRequired[
        Annotated[
            list[ContactPointPayload],
            Meta(description="Every e-mail of the contact, the primary one first."),
        ]
    ]
    phones: NotRequired[
        Annotated[
            list[ContactPointPayload],
            Meta(description="Every phone of the contact, the primary one first."),
        ]
    ]


class PersonPayload(TypedDict):
    id: Id
    name: str | None


class TaskPayload(TypedDict):
    id: Id
    title: str
    kind: Annotated[
        Literal["FIRST_RESPONSE", "TODO", "CALL", "MEETING", "EMAIL"],
        Meta(description="FIRST_RESPONSE for the task made with each new lead."),
    ]
    # The emitters pass the datetime itself; Event.to_dict writes it as an ISO 8601 string.
    due_at: datetime | None
    done: bool
    lead_id: OptionalId
    contact_id: OptionalId
    assignee_id: OptionalId


class SubmissionPayload(TypedDict):
    id: Id
    site_id: Id
    reason: Code


class MessagePayload(TypedDict):
    template: Code
    channel: Code
    contact_id: OptionalId
    lead_id: OptionalId
    variables: Mapping[str, Any]
    id: Annotated[str, Meta(min_length=1, description="The message; its status is reported by it.")]
    idempotency_key: Annotated[
        str,
        Meta(
            min_length=1,
            description=(
                "The same on every request for this message: a gateway that has sent it once "
                "drops a repeat."
            ),
        ),
    ]
    to: Annotated[str, Meta(description="The recipient: a phone in E.164, or an address.")]
    language: Annotated[str, Meta(min_length=2)]
    subject: str
    body: str


Money = Annotated[str, Meta(description='A decimal amount as a string, e.g. "1500.00".')]


class InvoicePayload(TypedDict):
    id: Id
    number: Annotated[int | None, Meta(description="Given when issued; null for a draft.")]
    status: Literal["DRAFT", "ISSUED", "PARTLY_PAID", "PAID", "CANCELLED"]
    currency: str
    total: Money
    paid: Annotated[str, Meta(description="What the payments applied to it add up to.")]
    due_on: Annotated[str | None, Meta(format="date")]
    lead_id: OptionalId
    contact_id: OptionalId


class PaymentPayload(TypedDict):
    id: Id
    invoice_id: Id
    amount: Money
    currency: str
    source: Annotated[
        Literal["MANUAL", "PROVIDER"],
        Meta(description="MANUAL: recorded by a person; PROVIDER: a provider's notification."),
    ]
    provider: str | None
    provider_payment_id: str | None
    paid_at: datetime


# ---- data of each event ---------------------------------------------------------------------


class LeadData(TypedDict):
    workspace_id: WorkspaceId
    workspace_external_id: WorkspaceExternalId
    site_id: SiteId
    sequence: LeadSequence
    lead: LeadPayload


class LeadCreatedData(LeadData):
    contact: ContactPayload


class LeadStageChangedData(LeadData):
    from_stage: StagePayload
    to_stage: StagePayload


class LeadAssignedData(LeadData):
    assignee: PersonPayload | None


class LeadClosedData(LeadData):
    reason: str | None


class ContactData(TypedDict):
    workspace_id: WorkspaceId
    workspace_external_id: WorkspaceExternalId
    site_id: SiteId
    contact: ContactPayload


class ContactMergedData(ContactData):
    merged_contact_id: Id


class TaskData(TypedDict):
    workspace_id: WorkspaceId
    workspace_external_id: WorkspaceExternalId
    site_id: SiteId
    task: TaskPayload


class SubmissionData(TypedDict):
    workspace_id: WorkspaceId
    workspace_external_id: WorkspaceExternalId
    site_id: SiteId
    submission: SubmissionPayload


class MessageData(TypedDict):
    workspace_id: WorkspaceId
    workspace_external_id: WorkspaceExternalId
    site_id: SiteId
    message: MessagePayload


class InvoiceData(TypedDict):
    workspace_id: WorkspaceId
    workspace_external_id: WorkspaceExternalId
    site_id: SiteId
    invoice: InvoicePayload


class PaymentData(InvoiceData):
    payment: PaymentPayload


class WebhookTestData(TypedDict):
    workspace_id: EndpointWorkspaceId
    workspace_external_id: EndpointWorkspaceExternalId
    endpoint_id: Id


class EndpointDisabledData(TypedDict):
    workspace_id: EndpointWorkspaceId
    workspace_external_id: EndpointWorkspaceExternalId
    endpoint_id: Id
    reason: Code


class MessageAttemptExhaustedData(TypedDict):
    workspace_id: EndpointWorkspaceId
    workspace_external_id: EndpointWorkspaceExternalId
    endpoint_id: Id
    event_id: Id
    message_id: Annotated[str, Meta(description="The webhook-id of the exhausted message.")]
    attempts: Annotated[int, Meta(minimum=1)]


# ---- the events -----------------------------------------------------------------------------


class LeadCreated(TypedDict):
    """A lead was created, from a form submission, the API or the panel."""

    type: Literal["lead.created"]
    timestamp: EventTimestamp
    data: LeadCreatedData


class LeadUpdated(TypedDict):
    """Fields of a lead changed (other than its stage, assignee or outcome, which have their own events)."""

    type: Literal["lead.updated"]
    timestamp: EventTimestamp
    data: LeadData


class LeadStageChanged(TypedDict):
    """A lead moved to another pipeline stage."""

    type: Literal["lead.stage_changed"]
    timestamp: EventTimestamp
    data: LeadStageChangedData


class LeadAssigned(TypedDict):
    """A lead was assigned to a member, or unassigned (assignee null)."""

    type: Literal["lead.assigned"]
    timestamp: EventTimestamp
    data: LeadAssignedData


class LeadWon(TypedDict):
    """A lead was closed as won."""

    type: Literal["lead.won"]
    timestamp: EventTimestamp
    data: LeadClosedData


class LeadLost(TypedDict):
    """A lead was closed as lost."""

    type: Literal["lead.lost"]
    timestamp: EventTimestamp
    data: LeadClosedData


class ContactCreated(TypedDict):
    """A contact was created."""

    type: Literal["contact.created"]
    timestamp: EventTimestamp
    data: ContactData


class ContactUpdated(TypedDict):
    """Fields of a contact changed."""

    type: Literal["contact.updated"]
    timestamp: EventTimestamp
    data: ContactData


class ContactMerged(TypedDict):
    """A duplicate contact (merged_contact_id) was merged into data.contact and no longer exists."""

    type: Literal["contact.merged"]
    timestamp: EventTimestamp
    data: ContactMergedData


class TaskCreated(TypedDict):
    """A task was created."""

    type: Literal["task.created"]
    timestamp: EventTimestamp
    data: TaskData


class TaskCompleted(TypedDict):
    """A task was marked done."""

    type: Literal["task.completed"]
    timestamp: EventTimestamp
    data: TaskData


class TaskOverdue(TypedDict):
    """A task passed its due time without being done."""

    type: Literal["task.overdue"]
    timestamp: EventTimestamp
    data: TaskData


class SubmissionQuarantined(TypedDict):
    """A form submission was held back (spam, failed checks) instead of creating a lead."""

    type: Literal["submission.quarantined"]
    timestamp: EventTimestamp
    data: SubmissionData


class MessageRequested(TypedDict):
    """The CRM asks the host to send a message (e-mail, SMS…) to a contact on its behalf."""

    type: Literal["message.requested"]
    timestamp: EventTimestamp
    data: MessageData


class InvoiceIssued(TypedDict):
    """An invoice was issued: it has its number and can be sent to the client."""

    type: Literal["invoice.issued"]
    timestamp: EventTimestamp
    data: InvoiceData


class InvoicePaid(TypedDict):
    """An invoice was paid in full."""

    type: Literal["invoice.paid"]
    timestamp: EventTimestamp
    data: InvoiceData


class InvoiceOverdue(TypedDict):
    """An issued invoice passed its due date without being paid in full."""

    type: Literal["invoice.overdue"]
    timestamp: EventTimestamp
    data: InvoiceData


class PaymentReceived(TypedDict):
    """A payment was applied to an invoice, in full or in part."""

    type: Literal["payment.received"]
    timestamp: EventTimestamp
    data: PaymentData


class WebhookTest(TypedDict):
    """A test event sent on request to check an endpoint."""

    type: Literal["webhook.test"]
    timestamp: EventTimestamp
    data: WebhookTestData


class EndpointDisabled(TypedDict):
    """Operational: an endpoint was disabled (410 Gone, or failing continuously)."""

    type: Literal["endpoint.disabled"]
    timestamp: EventTimestamp
    data: EndpointDisabledData


class MessageAttemptExhausted(TypedDict):
    """Operational: a message failed its last retry; it can be replayed."""

    type: Literal["message.attempt.exhausted"]
    timestamp: EventTimestamp
    data: MessageAttemptExhaustedData


# The order is the catalog's order in docs and listings; names are public: add, never rename.
EVENT_CLASSES: tuple[type, ...] = (
    LeadCreated,
    LeadUpdated,
    LeadStageChanged,
    LeadAssigned,
    LeadWon,
    LeadLost,
    ContactCreated,
    ContactUpdated,
    ContactMerged,
    TaskCreated,
    TaskCompleted,
    TaskOverdue,
    SubmissionQuarantined,
    MessageRequested,
    WebhookTest,
    InvoiceIssued,
    InvoicePaid,
    InvoiceOverdue,
    PaymentReceived,
)

# About the delivery machinery itself rather than CRM data: sent to tell the host that an
# endpoint was disabled or that a message gave up after its last retry.
OPERATIONAL_EVENT_CLASSES: tuple[type, ...] = (EndpointDisabled, MessageAttemptExhausted)

ALL_EVENT_CLASSES: tuple[type, ...] = EVENT_CLASSES + OPERATIONAL_EVENT_CLASSES


def event_type_of(cls: type) -> str:
    """The ``type`` an event class declares with its ``Literal``."""
    (name,) = get_args(get_type_hints(cls)["type"])
    if not isinstance(name, str):
        raise TypeError(f"{cls.__name__}.type must be a string literal")
    return name


EVENT_TYPES: tuple[str, ...] = tuple(event_type_of(cls) for cls in EVENT_CLASSES)
OPERATIONAL_EVENT_TYPES: tuple[str, ...] = tuple(
    event_type_of(cls) for cls in OPERATIONAL_EVENT_CLASSES
)
ALL_EVENT_TYPES: tuple[str, ...] = EVENT_TYPES + OPERATIONAL_EVENT_TYPES

_BY_TYPE: dict[str, type] = {event_type_of(cls): cls for cls in ALL_EVENT_CLASSES}
if len(_BY_TYPE) != len(ALL_EVENT_CLASSES):  # pragma: no cover - caught at import
    raise RuntimeError("two event classes declare the same type")


def event_class(event_type: str) -> type:
    """The class of one event type; KeyError for a type the catalog does not have."""
    return _BY_TYPE[event_type]
