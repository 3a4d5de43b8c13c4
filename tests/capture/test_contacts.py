"""Contacts (K1): normalised keys, one workspace at a time, no silent merges."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from conftest import GraphQL
from embedcrm.contacts.models import MergeProposal, MergeProposalStatus
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from factories import LEADS, make_tenant, submission, submit

CONTACTS = "{ contacts { totalCount edges { node { id email phone } } } }"


async def test_the_same_email_in_two_workspaces_is_two_contacts(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    a, b = await make_tenant(platform), await make_tenant(platform)
    await submit(client, a, submission(email="same@example.com"))
    await submit(client, b, submission(email="SAME@example.com"))
    ids = set()
    for tenant in (a, b):
        contacts = (await tenant.panel.data(CONTACTS))["contacts"]
        assert contacts["totalCount"] == 1
        assert contacts["edges"][0]["node"]["email"] == "same@example.com"
        ids.add(contacts["edges"][0]["node"]["id"])
    assert len(ids) == 2


async def test_regional_phone_formats_meet_in_e164(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    for phone in ("+7 912 345-67-89", "8 (912) 345-67-89", "9123456789"):
        await submit(client, tenant, submission(email="", phone=phone))
    contacts = (await tenant.panel.data(CONTACTS))["contacts"]
    assert contacts["totalCount"] == 1
    assert contacts["edges"][0]["node"]["phone"] == "+79123456789"


async def test_a_conflicting_match_makes_a_proposal_not_a_merge(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    await submit(client, tenant, submission(email="anna@example.com", phone=""))
    await submit(client, tenant, submission(email="other@example.com", phone="+79990001122"))
    # E-mail says Anna, phone says the other contact.
    await submit(client, tenant, submission(email="anna@example.com", phone="+79990001122"))
    contacts = (await tenant.panel.data(CONTACTS))["contacts"]
    assert contacts["totalCount"] == 2
    newest = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]
    assert newest["contact"]["email"] == "anna@example.com"
    workspace = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        proposals = list(
            await session.scalars(
                select(MergeProposal).where(MergeProposal.workspace_id == workspace)
            )
        )
    assert len(proposals) == 1
    assert proposals[0].status is MergeProposalStatus.OPEN
    assert proposals[0].contact_id == parse_global_id(newest["contact"]["id"]).row_id
