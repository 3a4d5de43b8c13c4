"""Every table, imported in one place so the metadata is complete (migrations, tests)."""

from embedcrm.alerts.models import Alert, AlertSettings
from embedcrm.analytics.models import AdSpend, AdSpendDay, FormEventDay
from embedcrm.capture.models import Submission
from embedcrm.catalog.models import Product
from embedcrm.commission.models import CommissionRule
from embedcrm.contacts.models import Contact, ContactMerge, MergeProposal
from embedcrm.exchange.models import ExchangeFile, OneCExchange
from embedcrm.feedback.models import FeedbackAnswer
from embedcrm.fields.models import ContactTag, CustomFieldDefinition, LeadTag, Segment, Tag
from embedcrm.forms.models import SiteForm
from embedcrm.invoices.models import (
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Payment,
    PaymentProvider,
    Requisites,
)
from embedcrm.leads.models import (
    Activity,
    AssignmentCursor,
    AssignmentRule,
    Lead,
    LeadItem,
    LeadStageChange,
)
from embedcrm.messages.models import Holiday, Message, MessageOptOut, MessageTemplate
from embedcrm.pipelines.models import Pipeline, Stage
from embedcrm.privacy.models import Erasure
from embedcrm.tasks.models import Task
from embedcrm.webhooks.models import OutboxEvent
from embedcrm.workspaces.models import Member, PlatformKey, RevokedPanelToken, Site, Workspace

__all__ = [
    "Activity",
    "AdSpend",
    "AdSpendDay",
    "Alert",
    "AlertSettings",
    "AssignmentCursor",
    "AssignmentRule",
    "CommissionRule",
    "Contact",
    "ContactMerge",
    "ContactTag",
    "CustomFieldDefinition",
    "Erasure",
    "ExchangeFile",
    "FeedbackAnswer",
    "FormEventDay",
    "Holiday",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "Lead",
    "LeadItem",
    "LeadStageChange",
    "LeadTag",
    "Member",
    "MergeProposal",
    "Message",
    "MessageOptOut",
    "MessageTemplate",
    "OneCExchange",
    "OutboxEvent",
    "Payment",
    "PaymentProvider",
    "Pipeline",
    "PlatformKey",
    "Product",
    "Requisites",
    "RevokedPanelToken",
    "Segment",
    "Site",
    "SiteForm",
    "Stage",
    "Submission",
    "Tag",
    "Task",
    "Workspace",
]
