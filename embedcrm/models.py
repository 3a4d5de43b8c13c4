"""Every table, imported in one place so the metadata is complete (migrations, tests)."""

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
from embedcrm.webhooks.models import OutboxEvent
from embedcrm.workspaces.models import Member, PlatformKey, Site, Workspace

__all__ = [
    "Activity",
    "AssignmentCursor",
    "AssignmentRule",
    "Contact",
    "Lead",
    "Member",
    "MergeProposal",
    "OutboxEvent",
    "Pipeline",
    "PlatformKey",
    "Site",
    "Stage",
    "Submission",
    "Task",
    "Workspace",
]
