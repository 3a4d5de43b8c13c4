"""The DataLoaders of one request, from the domains' dataloaders.py: a page of leads costs one
query per related table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from embedcrm.auth import Principal
from embedcrm.contacts.models import Contact, ContactPoint
from embedcrm.fields.models import Tag
from embedcrm.graphql.batching import Key
from embedcrm.graphql.contacts.dataloaders import contact_points_loader, contacts_loader
from embedcrm.graphql.fields.dataloaders import contact_tags_loader, lead_tags_loader
from embedcrm.graphql.leads.dataloaders import (
    ContactPageKey,
    contact_lead_counts_loader,
    contact_leads_loader,
    lead_items_loader,
)
from embedcrm.graphql.messages.dataloaders import messages_loader
from embedcrm.graphql.pipelines.dataloaders import stages_loader
from embedcrm.graphql.workspaces.dataloaders import members_loader
from embedcrm.kit.repository import Page
from embedcrm.leads.models import Lead, LeadItem
from embedcrm.messages.models import Message
from embedcrm.pipelines.models import Stage
from embedcrm.services import Services
from embedcrm.workspaces.models import Member


@dataclass
class Loaders:
    contacts: DataLoader[Key, Contact | None]
    contact_points: DataLoader[Key, list[ContactPoint] | None]
    stages: DataLoader[Key, Stage | None]
    members: DataLoader[Key, Member | None]
    lead_items: DataLoader[Key, list[LeadItem] | None]
    lead_tags: DataLoader[Key, list[Tag] | None]
    contact_tags: DataLoader[Key, list[Tag] | None]
    # What the caller sees of each contact's leads: these depend on who asks.
    contact_leads: DataLoader[ContactPageKey, Page[Lead]]
    contact_lead_counts: DataLoader[Key, int | None]
    messages: DataLoader[Key, Message | None]
    # The GraphQL objects made of loaded rows, by converter and key (``batching.related``).
    converted: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, services: Services, principal: Principal) -> Loaders:
        return cls(
            contacts=contacts_loader(services),
            contact_points=contact_points_loader(services),
            stages=stages_loader(services),
            members=members_loader(services),
            lead_items=lead_items_loader(services),
            lead_tags=lead_tags_loader(services),
            contact_tags=contact_tags_loader(services),
            contact_leads=contact_leads_loader(services, principal),
            contact_lead_counts=contact_lead_counts_loader(services, principal),
            messages=messages_loader(services),
        )

    def release(self) -> None:
        """Let go of every row and object this request loaded, once its answer is made.

        graphql-core's execution context refers to itself (through its resolve-info helpers),
        so it is freed only by the garbage collector, and with it the request's context and
        loaders would keep every loaded row alive until then: about a thousand objects a page
        of 50 leads, which made the collector run every forty pages, for about a millisecond
        a page. Emptied here, the rows are freed when the answer is."""
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()
        self.converted.clear()
