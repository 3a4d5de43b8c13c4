"""DataLoaders of contacts, made per request."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from embedcrm.contacts.models import Contact, ContactPoint
from embedcrm.graphql.batching import Key, batched
from embedcrm.services import Services


def contacts_loader(services: Services) -> DataLoader[Key, Contact | None]:
    """Contacts by id: a lead's, a task's, a merge's."""
    return DataLoader(load_fn=batched(services.contacts.contacts_by_id))


def contact_points_loader(services: Services) -> DataLoader[Key, list[ContactPoint] | None]:
    """The e-mails and phones of each contact, by contact id: a page of contacts is one query."""
    return DataLoader(load_fn=batched(services.contact_points.points_by_contact))
