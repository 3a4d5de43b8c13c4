"""The bodies of the contacts query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.contacts import models as contact_models
from embedcrm.graphql.contacts.inputs import ContactFilter, contact_spec
from embedcrm.graphql.contacts.types import (
    Contact,
    ContactMerge,
    MergeProposal,
    MergeProposalStatus,
    load_contact_relations,
)
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, CsvExport
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, scoped_id, workspace_arg
from embedcrm.kit.repository import Window


async def contacts(
    info: Info,
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    workspace_id: strawberry.ID | None = None,
    filter: ContactFilter | None = None,
    segment_id: strawberry.ID | None = None,
) -> Connection[Contact]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    spec = contact_spec(filter, workspace)
    segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
    lists, principal = info.context.services.lists, info.context.principal
    page = await lists.contacts_page(
        principal, workspace, spec, segment_id=segment, window=Window(first, after, last, before)
    )
    await load_contact_relations(info, page.rows, "edges", "node")
    return connection(
        page,
        Contact.of,
        lambda: lists.count_contacts(principal, workspace, spec, segment_id=segment),
        lambda limit: lists.count_contacts(
            principal, workspace, spec, segment_id=segment, up_to=limit
        ),
    )


async def merge_proposals(
    info: Info,
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    status: MergeProposalStatus | None = contact_models.MergeProposalStatus.OPEN,  # type: ignore[valid-type]
    workspace_id: strawberry.ID | None = None,
) -> Connection[MergeProposal]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    service = info.context.services.merges
    page = await service.proposals(
        info.context.principal, workspace, status=status, window=Window(first, after, last, before)
    )

    async def count() -> int:
        return await service.count_proposals(info.context.principal, workspace, status=status)

    return connection(page, MergeProposal.of, count)


async def contact_merges(
    info: Info,
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    workspace_id: strawberry.ID | None = None,
) -> Connection[ContactMerge]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    service = info.context.services.merges
    page = await service.merges(
        info.context.principal, workspace, window=Window(first, after, last, before)
    )

    async def count() -> int:
        return await service.count_merges(info.context.principal, workspace)

    return connection(page, ContactMerge.of, count)


async def contacts_csv(
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
