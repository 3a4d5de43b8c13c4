"""DataLoaders of leads, made per request."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from embedcrm.auth import Principal
from embedcrm.graphql.batching import Key, batched
from embedcrm.kit.repository import Page
from embedcrm.leads.models import Lead, LeadItem
from embedcrm.services import Services

# (workspace id, contact id, page size): the first page of a contact's leads.
ContactPageKey = tuple[uuid.UUID, uuid.UUID, int]


def lead_items_loader(services: Services) -> DataLoader[Key, list[LeadItem] | None]:
    """The cart of each lead, by lead id."""
    return DataLoader(load_fn=batched(services.leads.items_of_leads))


def contact_leads_loader(
    services: Services, principal: Principal
) -> DataLoader[ContactPageKey, Page[Lead]]:
    """The first page of each contact's leads that the caller sees: one statement per page
    size asked for, however many contacts a list shows."""

    async def load(keys: list[ContactPageKey]) -> Sequence[Page[Lead]]:
        wanted: dict[tuple[uuid.UUID, int], list[uuid.UUID]] = defaultdict(list)
        for workspace_id, contact_id, size in keys:
            wanted[(workspace_id, size)].append(contact_id)
        found: dict[ContactPageKey, Page[Lead]] = {}
        for (workspace_id, size), contact_ids in wanted.items():
            pages = await services.leads.first_leads_of_contacts(
                principal, workspace_id, contact_ids, size
            )
            for contact_id, page in pages.items():
                found[(workspace_id, contact_id, size)] = page
        return [found[key] for key in keys]

    return DataLoader(load_fn=load)


def contact_lead_counts_loader(
    services: Services, principal: Principal
) -> DataLoader[Key, int | None]:
    """How many leads of each contact the caller sees."""

    async def fetch(workspace_id: uuid.UUID, contact_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        return await services.leads.count_leads_of_contacts(principal, workspace_id, contact_ids)

    return DataLoader(load_fn=batched(fetch))
