"""The mutations of contacts, one module each."""

from embedcrm.graphql.contacts.mutations import (
    accept_merge_proposal,
    dismiss_merge_proposal,
    merge_contacts,
    undo_contact_merge,
    update_contact,
)

__all__ = [
    "accept_merge_proposal",
    "dismiss_merge_proposal",
    "merge_contacts",
    "undo_contact_merge",
    "update_contact",
]
