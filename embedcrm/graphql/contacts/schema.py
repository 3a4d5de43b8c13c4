"""GraphQL queries and mutations of contacts: the card, the contact list, and merging two contacts into one."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.contacts import mutations, resolvers
from embedcrm.graphql.permissions import WritersOnly


@strawberry.type
class ContactQuery:
    contacts = strawberry.field(resolver=resolvers.contacts, description="Contacts, newest first.")


@strawberry.type
class MergeQuery:
    merge_proposals = strawberry.field(
        resolver=resolvers.merge_proposals,
        description="Contacts that look like one person, recorded at capture.",
    )

    contact_merges = strawberry.field(
        resolver=resolvers.contact_merges,
        description="The audit trail of contact merges, newest first.",
    )


@strawberry.type
class ContactExportQuery:
    contacts_csv = strawberry.field(
        resolver=resolvers.contacts_csv, description="The filtered contacts as CSV."
    )


@strawberry.type
class ContactMutation:
    update_contact = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.update_contact.resolve,
        description="Details, personal manager and custom fields of a contact.",
    )

    add_contact_point = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.add_contact_point.resolve,
        description="Another e-mail or phone of a contact (who may update it may add one).",
    )

    update_contact_point = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.update_contact_point.resolve,
        description="Relabel an e-mail or phone of a contact, or make it the primary one.",
    )

    remove_contact_point = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.remove_contact_point.resolve,
        description="Remove an e-mail or phone; the primary one gives way to the oldest other.",
    )


@strawberry.type
class MergeMutation:
    merge_contacts = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.merge_contacts.resolve,
        description="Merge mergeId into keepId: timeline, leads, tasks and tags move.",
    )

    undo_contact_merge = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.undo_contact_merge.resolve,
        description="Undo a merge within a day of it.",
    )

    accept_merge_proposal = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.accept_merge_proposal.resolve,
        description="Merge the two contacts of a proposal (keeping keepId, else the first).",
    )

    dismiss_merge_proposal = strawberry.mutation(
        permission_classes=[WritersOnly], resolver=mutations.dismiss_merge_proposal.resolve
    )
