"""GraphQL queries and mutations of contacts: the card, the contact list, and merging two contacts into one."""

from __future__ import annotations

from typing import Any

import strawberry

from embedcrm.contacts import models as contact_models
from embedcrm.graphql.contacts.inputs import (
    AcceptMergeProposalInput,
    ContactFilter,
    ContactMergePayload,
    ContactPayload,
    MergeContactsInput,
    MergeProposalPayload,
    UpdateContactInput,
    contact_spec,
)
from embedcrm.graphql.contacts.types import (
    Contact,
    ContactMerge,
    MergeProposal,
    MergeProposalStatus,
)
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, CsvExport, DeleteInput
from embedcrm.graphql.support import (
    DEFAULT_PAGE_SIZE,
    UNSET,
    as_payload,
    connection,
    errors_payload,
    given,
    parse_id,
    required_id,
    scoped_id,
    workspace_arg,
)


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
    @strawberry.mutation(description="Details, personal manager and custom fields of a contact.")
    async def update_contact(self, info: Info, input: UpdateContactInput) -> ContactPayload:
        ctx = info.context

        async def call() -> contact_models.Contact:
            gid = parse_id(input.id, "Contact")
            manager: Any = input.manager_id
            if manager not in (UNSET, None):
                manager = required_id(manager, "Member", "managerId", gid.workspace_id)
            changes = given(
                name=input.name,
                email=input.email,
                phone=input.phone,
                company=input.company,
                manager_id=manager,
                custom_fields=input.custom_fields,
            )
            return await ctx.services.contacts.update_contact(
                ctx.principal, gid.workspace_id, gid.row_id, changes
            )

        return await as_payload(
            call, lambda c: ContactPayload(contact=Contact.of(c)), errors_payload(ContactPayload)
        )


@strawberry.type
class MergeMutation:
    @strawberry.mutation(
        description="Merge mergeId into keepId: timeline, leads, tasks and tags move."
    )
    async def merge_contacts(self, info: Info, input: MergeContactsInput) -> ContactMergePayload:
        ctx = info.context

        async def call() -> Any:
            keep = parse_id(input.keep_id, "Contact", "keepId")
            merge = required_id(input.merge_id, "Contact", "mergeId", keep.workspace_id)
            return await ctx.services.merges.merge(
                ctx.principal, keep.workspace_id, keep_id=keep.row_id, merge_id=merge
            )

        return await as_payload(
            call,
            lambda m: ContactMergePayload(merge=ContactMerge.of(m)),
            errors_payload(ContactMergePayload),
        )

    @strawberry.mutation(description="Undo a merge within a day of it.")
    async def undo_contact_merge(self, info: Info, input: DeleteInput) -> ContactMergePayload:
        ctx = info.context

        async def call() -> Any:
            gid = parse_id(input.id, "ContactMerge")
            return await ctx.services.merges.undo(ctx.principal, gid.workspace_id, gid.row_id)

        return await as_payload(
            call,
            lambda m: ContactMergePayload(merge=ContactMerge.of(m)),
            errors_payload(ContactMergePayload),
        )

    @strawberry.mutation(
        description="Merge the two contacts of a proposal (keeping keepId, else the first)."
    )
    async def accept_merge_proposal(
        self, info: Info, input: AcceptMergeProposalInput
    ) -> ContactMergePayload:
        ctx = info.context

        async def call() -> Any:
            gid = parse_id(input.id, "MergeProposal")
            keep = scoped_id(input.keep_id, "Contact", "keepId", gid.workspace_id)
            return await ctx.services.merges.accept_proposal(
                ctx.principal, gid.workspace_id, gid.row_id, keep_id=keep
            )

        return await as_payload(
            call,
            lambda m: ContactMergePayload(merge=ContactMerge.of(m)),
            errors_payload(ContactMergePayload),
        )

    @strawberry.mutation
    async def dismiss_merge_proposal(self, info: Info, input: DeleteInput) -> MergeProposalPayload:
        ctx = info.context

        async def call() -> Any:
            gid = parse_id(input.id, "MergeProposal")
            return await ctx.services.merges.dismiss_proposal(
                ctx.principal, gid.workspace_id, gid.row_id
            )

        return await as_payload(
            call,
            lambda p: MergeProposalPayload(proposal=MergeProposal.of(p)),
            errors_payload(MergeProposalPayload),
        )
