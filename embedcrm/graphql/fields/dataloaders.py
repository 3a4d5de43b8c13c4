"""DataLoaders of tags, made per request."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from embedcrm.fields.models import Tag
from embedcrm.graphql.batching import Key, batched
from embedcrm.services import Services


def lead_tags_loader(services: Services) -> DataLoader[Key, list[Tag] | None]:
    """The tags of each lead, by lead id."""
    return DataLoader(load_fn=batched(services.tags.tags_of_leads))


def contact_tags_loader(services: Services) -> DataLoader[Key, list[Tag] | None]:
    """The tags of each contact, by contact id."""
    return DataLoader(load_fn=batched(services.tags.tags_of_contacts))
