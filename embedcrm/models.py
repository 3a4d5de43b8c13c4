"""Every table, imported in one place so the metadata is complete (migrations, tests)."""

from embedcrm.analytics.models import AdSpend, AdSpendDay, FormEventDay
from embedcrm.capture.models import Submission
from embedcrm.crm.models import (
    Activity,
    AssignmentCursor,
    AssignmentRule,
    Contact,
    Lead,
    MergeProposal,
    Pipeline,
    Stage,
    Task,
)
from embedcrm.crm.work_models import (
    ContactMerge,
    ContactTag,
    CustomFieldDefinition,
    Erasure,
    LeadItem,
    LeadStageChange,
    LeadTag,
    Segment,
    Tag,
)
from embedcrm.forms.models import SiteForm
from embedcrm.webhooks.models import OutboxEvent
from embedcrm.workspaces.models import Member, PlatformKey, Site, Workspace

__all__ = [
    "Activity",
    "AdSpend",
    "AdSpendDay",
    "AssignmentCursor",
    "AssignmentRule",
    "Contact",
    "ContactMerge",
    "ContactTag",
    "CustomFieldDefinition",
    "Erasure",
    "FormEventDay",
    "Lead",
    "LeadItem",
    "LeadStageChange",
    "LeadTag",
    "Member",
    "MergeProposal",
    "OutboxEvent",
    "Pipeline",
    "PlatformKey",
    "Segment",
    "Site",
    "SiteForm",
    "Stage",
    "Submission",
    "Tag",
    "Task",
    "Workspace",
]
