"""The mutations of contacts, one module each."""

from embedcrm.graphql.contacts.mutations import (
    accept_merge_proposal,
    add_contact_point,
    dismiss_merge_proposal,
    merge_contacts,
    remove_contact_point,
    undo_contact_merge,
    update_contact,
    update_contact_point,
)

__all__ = [
    "accept_merge_proposal",
    "add_contact_point",
    "dismiss_merge_proposal",
    "merge_contacts",
    "remove_contact_point",
    "undo_contact_merge",
    "update_contact",
    "update_contact_point",
]
