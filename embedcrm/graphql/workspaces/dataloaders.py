"""DataLoaders of workspaces, made per request."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from embedcrm.graphql.batching import Key, batched
from embedcrm.services import Services
from embedcrm.workspaces.models import Member


def members_loader(services: Services) -> DataLoader[Key, Member | None]:
    """Members by id: assignees and managers."""
    return DataLoader(load_fn=batched(services.workspaces.members_by_id))
