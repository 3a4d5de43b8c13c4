"""The loop of PRODUCT.md end to end: provision, capture, see."""

from __future__ import annotations

import httpx

from conftest import GraphQL
from factories import LEADS, make_tenant, submission, submit


async def test_a_submitted_lead_appears_in_the_panel(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    response = await submit(client, tenant, submission())
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"

    data = await tenant.panel.data(LEADS, first=50)
    leads = data["leads"]
    assert leads["totalCount"] == 1
    node = leads["edges"][0]["node"]
    assert node["status"] == "OPEN"
    assert node["stage"]["name"] == "Новый"
    assert node["contact"]["email"] == "anna@example.com"
    assert node["contact"]["phone"] == "+79123456789"
    assert node["source"]["utmSource"] == "yandex"
    assert node["source"]["utmCampaign"] == "spring"
    assert node["source"]["referrer"] == "https://yandex.ru/"
