"""DataLoaders, made per request: a page of leads costs one query per related table."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from strawberry.dataloader import DataLoader

from embedcrm.contacts.models import Contact
from embedcrm.fields.models import Tag
from embedcrm.leads.models import LeadItem
from embedcrm.pipelines.models import Stage
from embedcrm.services import Services
from embedcrm.workspaces.models import Member

T = TypeVar("T")
Key = tuple[uuid.UUID, uuid.UUID]  # (workspace_id, row id)


def _batched(
    fetch: Callable[[uuid.UUID, list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, T]]],
) -> Callable[[list[Key]], Awaitable[Sequence[T | None]]]:
    async def load(keys: list[Key]) -> Sequence[T | None]:
        by_workspace: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for workspace_id, row_id in keys:
            by_workspace[workspace_id].append(row_id)
        found: dict[Key, T] = {}
        for workspace_id, ids in by_workspace.items():
            for row_id, row in (await fetch(workspace_id, ids)).items():
                found[(workspace_id, row_id)] = row
        return [found.get(key) for key in keys]

    return load


@dataclass
class Loaders:
    contacts: DataLoader[Key, Contact | None]
    stages: DataLoader[Key, Stage | None]
    members: DataLoader[Key, Member | None]
    lead_items: DataLoader[Key, list[LeadItem] | None]
    lead_tags: DataLoader[Key, list[Tag] | None]
    contact_tags: DataLoader[Key, list[Tag] | None]

    @classmethod
    def create(cls, services: Services) -> Loaders:
        return cls(
            contacts=DataLoader(load_fn=_batched(services.contacts.contacts_by_id)),
            stages=DataLoader(load_fn=_batched(services.pipelines.stages_by_id)),
            members=DataLoader(load_fn=_batched(services.workspaces.members_by_id)),
            lead_items=DataLoader(load_fn=_batched(services.leads.items_of_leads)),
            lead_tags=DataLoader(load_fn=_batched(services.tags.tags_of_leads)),
            contact_tags=DataLoader(load_fn=_batched(services.tags.tags_of_contacts)),
        )
