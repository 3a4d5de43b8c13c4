"""GraphQL queries and mutations of contacts: the card, the contact list, and merging two contacts into one."""

from __future__ import annotations

import strawberry

from embedcrm.contacts import models as contact_models
from embedcrm.graphql.contacts import mutations
from embedcrm.graphql.contacts.inputs import ContactFilter, contact_spec
from embedcrm.graphql.contacts.types import (
    Contact,
    ContactMerge,
    MergeProposal,
    MergeProposalStatus,
)
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, CsvExport
from embedcrm.graphql.permissions import WritersOnly
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, scoped_id, workspace_arg


@strawberry.type
class ContactQuery:
    @strawberry.field(description="Contacts, newest first.")
    async def contacts(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        workspace_id: strawberry.ID | None = None,
        filter: ContactFilter | None = None,
        segment_id: strawberry.ID | None = None,
    ) -> Connection[Contact]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        spec = contact_spec(filter, workspace)
        segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
        lists, principal = info.context.services.lists, info.context.principal
        page = await lists.contacts_page(
            principal, workspace, spec, segment_id=segment, first=first, after=after
        )
        return connection(
            page,
            Contact.of,
            lambda: lists.count_contacts(principal, workspace, spec, segment_id=segment),
        )


@strawberry.type
class MergeQuery:
    @strawberry.field(description="Contacts that look like one person, recorded at capture.")
    async def merge_proposals(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: MergeProposalStatus | None = contact_models.MergeProposalStatus.OPEN,  # type: ignore[valid-type]
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[MergeProposal]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        service = info.context.services.merges
        page = await service.proposals(
            info.context.principal, workspace, status=status, first=first, after=after
        )

        async def count() -> int:
            return await service.count_proposals(info.context.principal, workspace, status=status)

        return connection(page, MergeProposal.of, count)

    @strawberry.field(description="The audit trail of contact merges, newest first.")
    async def contact_merges(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[ContactMerge]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        service = info.context.services.merges
        page = await service.merges(info.context.principal, workspace, first=first, after=after)

        async def count() -> int:
            return await service.count_merges(info.context.principal, workspace)

        return connection(page, ContactMerge.of, count)


@strawberry.type
class ContactExportQuery:
    @strawberry.field(description="The filtered contacts as CSV.")
    async def contacts_csv(
        self,
        info: Info,
        filter: ContactFilter | None = None,
        segment_id: strawberry.ID | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> CsvExport:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
        text, rows = await info.context.services.lists.export_csv(
            info.context.principal, workspace, contact_spec(filter, workspace), segment_id=segment
        )
        return CsvExport(csv=text, row_count=rows)


@strawberry.type
class ContactMutation:
    update_contact = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.update_contact.resolve,
        description="Details, personal manager and custom fields of a contact.",
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
