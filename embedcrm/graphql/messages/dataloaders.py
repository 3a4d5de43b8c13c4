"""DataLoaders of messages, made per request."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from embedcrm.graphql.batching import Key, batched
from embedcrm.messages.models import Message
from embedcrm.services import Services


def messages_loader(services: Services) -> DataLoader[Key, Message | None]:
    """Messages by id: the one each MESSAGE entry of a timeline names."""
    return DataLoader(load_fn=batched(services.messages.messages_by_id))
