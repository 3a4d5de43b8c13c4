"""DataLoaders of leads, made per request."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from embedcrm.graphql.batching import Key, batched
from embedcrm.leads.models import LeadItem
from embedcrm.services import Services


def lead_items_loader(services: Services) -> DataLoader[Key, list[LeadItem] | None]:
    """The cart of each lead, by lead id."""
    return DataLoader(load_fn=batched(services.leads.items_of_leads))
