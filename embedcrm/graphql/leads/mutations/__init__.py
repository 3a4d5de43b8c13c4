"""The mutations of leads, one module each."""

from embedcrm.graphql.leads.mutations import (
    add_activity,
    assign_lead,
    bulk_assign_leads,
    set_lead_items,
    update_lead,
)

__all__ = [
    "add_activity",
    "assign_lead",
    "bulk_assign_leads",
    "set_lead_items",
    "update_lead",
]
