"""Which leads are a manager's: those assigned to them and the unassigned ones they may take.

The rows that hang off a lead (tasks, the timeline, submissions, the contacts of leads) are
scoped for a MANAGER by the same rule, so it lives here, as statements over the lead table
that those domains' repositories embed, rather than in the leads repository they may not use.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.sql.elements import ColumnElement

from embedcrm.contacts.models import Contact
from embedcrm.leads.models import Lead


def taken_by(member_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(Lead.assignee_id == member_id, Lead.assignee_id.is_(None))


def own_lead_ids(workspace_id: uuid.UUID, member_id: uuid.UUID) -> Select[uuid.UUID]:
    """The ids of a manager's leads, for the rows that hang off a lead."""
    return select(Lead.id).where(Lead.workspace_id == workspace_id, taken_by(member_id))


def own_contact_ids(workspace_id: uuid.UUID, member_id: uuid.UUID) -> Select[uuid.UUID]:
    """The contacts of a manager's leads."""
    return select(Lead.contact_id).where(Lead.workspace_id == workspace_id, taken_by(member_id))


def contact_owned_by(workspace_id: uuid.UUID, member_id: uuid.UUID) -> ColumnElement[bool]:
    """A manager's contacts: those whose personal manager they are, and the people of the
    leads they see (so a lead's card always shows its contact)."""
    return or_(
        Contact.manager_id == member_id,
        Contact.id.in_(own_contact_ids(workspace_id, member_id)),
    )


def seen_contact_ids(workspace_id: uuid.UUID, member_id: uuid.UUID) -> Select[uuid.UUID]:
    """The ids of a manager's contacts, for the rows that hang off a contact alone (its
    messages, opt-outs and feedback answers)."""
    return select(Contact.id).where(
        Contact.workspace_id == workspace_id, contact_owned_by(workspace_id, member_id)
    )
