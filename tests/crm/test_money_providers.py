"""Payment providers against local fakes of their published protocols: Robokassa's ResultURL
(MD5 over OutSum:InvId:Password2, answered OK<InvId>) and YooKassa's payment.succeeded
notification, believed only once the payment fetched back from a fake YooKassa API on 127.0.0.1
confirms it. Each marks the invoice paid exactly once however often it repeats."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from browser_support import LiveServer
from crm_support import errors_of, events, panel_as
from money_support import ISSUE, create, line
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from factories import Tenant, make_tenant

SET_PROVIDER = """mutation($input: SetPaymentProviderInput!) { setPaymentProvider(input: $input) {
  provider { provider account notificationUrl } userErrors { field message code } } }"""
INVOICE = """query($id: ID!) { node(id: $id) { ... on Invoice { status paid
  payments { amount source provider providerPaymentId } } } }"""


async def issued_invoice(tenant: Tenant, price: str) -> tuple[dict[str, Any], int]:
    invoice = await create(
        tenant.panel, buyerName="ИП Петров", lines=[line("Букет", "1", price, "NONE")]
    )
    number = (await tenant.panel.data(ISSUE, id=invoice["id"]))["issueInvoice"]["invoice"]["number"]
    return invoice, int(number)


def workspace_uuid(tenant: Tenant) -> uuid.UUID:
    return parse_global_id(tenant.workspace_id).row_id


def signed(out_sum: str, inv_id: int, password: str, **shp: str) -> dict[str, str]:
    """The fields Robokassa posts, signed as its documentation says."""
    base = f"{out_sum}:{inv_id}:{password}"
    base += "".join(f":{k}={v}" for k, v in sorted(shp.items()))
    signature = hashlib.md5(base.encode()).hexdigest().upper()
    return {"OutSum": out_sum, "InvId": str(inv_id), "SignatureValue": signature, **shp}


async def test_robokassa_result_marks_the_invoice_paid_once(
    client: httpx.AsyncClient, services: Services, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    configured = await shop.panel.data(
        SET_PROVIDER, input={"provider": "ROBOKASSA", "account": "romashka", "secret": "p2-secret"}
    )
    provider = configured["setPaymentProvider"]["provider"]
    assert provider["notificationUrl"] == (
        f"http://crm.test/v1/workspaces/{workspace_uuid(shop)}/payments/robokassa/result"
    )
    path = provider["notificationUrl"].removeprefix("http://crm.test")
    invoice, number = await issued_invoice(shop, "1500")

    forged = await client.post(path, data=signed("1500.000000", number, "wrong-password"))
    assert forged.status_code == 403
    assert (await shop.panel.data(INVOICE, id=invoice["id"]))["node"]["status"] == "ISSUED"

    fields = signed("1500.000000", number, "p2-secret", Shp_lead="42")
    for _ in range(3):
        answer = await client.post(path, data=fields)
        assert (answer.status_code, answer.text) == (200, f"OK{number}")
    node = (await shop.panel.data(INVOICE, id=invoice["id"]))["node"]
    assert (node["status"], node["paid"]) == ("PAID", "1500.00")
    assert node["payments"] == [
        {
            "amount": "1500.00",
            "source": "PROVIDER",
            "provider": "robokassa",
            "providerPaymentId": str(number),
        }
    ]
    assert len(await events(services, shop, "invoice.paid")) == 1

    # Repeated at the same moment, too.
    second, second_number = await issued_invoice(shop, "99.90")
    repeat = signed("99.90", second_number, "p2-secret")
    answers = await asyncio.gather(*(client.get(path, params=repeat) for _ in range(4)))
    assert {(a.status_code, a.text) for a in answers} == {(200, f"OK{second_number}")}
    assert len((await shop.panel.data(INVOICE, id=second["id"]))["node"]["payments"]) == 1
    assert len(await events(services, shop, "payment.received")) == 2

    unknown = await client.post(path, data=signed("10", 9999, "p2-secret"))
    assert unknown.status_code == 404
    assert (await client.post(path, data={"OutSum": "1"})).status_code == 400
    elsewhere = await make_tenant(platform)
    not_set_up = f"/v1/workspaces/{workspace_uuid(elsewhere)}/payments/robokassa/result"
    assert (await client.post(not_set_up, data=fields)).status_code == 404


async def test_only_an_owner_sets_up_a_provider_and_its_secret_stays_hidden(
    platform: GraphQL,
) -> None:
    shop = await make_tenant(platform)
    manager, _ = await panel_as(platform, shop, "MANAGER")
    refused = await manager.data(
        SET_PROVIDER, input={"provider": "YOOKASSA", "account": "1", "secret": "s"}
    )
    assert errors_of(refused["setPaymentProvider"]) == ["forbidden"]
    empty = await shop.panel.data(
        SET_PROVIDER, input={"provider": "YOOKASSA", "account": "1", "secret": " "}
    )
    assert empty["setPaymentProvider"]["userErrors"][0]["field"] == "secret"
    await shop.panel.data(
        SET_PROVIDER, input={"provider": "YOOKASSA", "account": "100500", "secret": "live_x"}
    )
    listed = await manager.data("{ paymentProviders { provider account } }")
    assert listed["paymentProviders"] == [{"provider": "YOOKASSA", "account": "100500"}]
    # The secret is not a field at all: the query is refused before it runs.
    hidden = await shop.panel("{ paymentProviders { secret } }")
    assert set(hidden) == {"errors"}
    assert [e["extensions"]["code"] for e in hidden["errors"]] == ["graphql_validation_failed"]


@dataclasses.dataclass
class FakeYooKassa:
    """YooKassa's GET /v3/payments/{id}, with HTTP basic auth by shop id and secret key."""

    shop_id: str
    secret_key: str
    payments: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    requests: int = 0

    def app(self) -> Starlette:
        async def get_payment(request: Request) -> Response:
            self.requests += 1
            expected = base64.b64encode(f"{self.shop_id}:{self.secret_key}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return JSONResponse({"type": "error", "code": "invalid_credentials"}, 401)
            found = self.payments.get(request.path_params["payment_id"])
            if found is None:
                return JSONResponse({"type": "error", "code": "not_found"}, 404)
            return JSONResponse(found)

        return Starlette(routes=[Route("/v3/payments/{payment_id}", get_payment)])


@pytest.fixture
async def yookassa() -> AsyncIterator[tuple[FakeYooKassa, LiveServer]]:
    fake = FakeYooKassa(shop_id="100500", secret_key="test_secret")
    server = LiveServer(fake.app)
    await server.start()
    yield fake, server
    await server.stop()


def yookassa_payment(payment_id: str, invoice_uuid: str, value: str, status: str) -> dict[str, Any]:
    return {
        "id": payment_id,
        "status": status,
        "paid": status == "succeeded",
        "amount": {"value": value, "currency": "RUB"},
        "captured_at": "2026-11-28T10:00:00.000Z",
        "metadata": {"invoice_id": invoice_uuid},
        "test": True,
    }


async def test_yookassa_notification_is_believed_from_the_api_and_applied_once(
    settings: Settings,
    services: Services,
    platform: GraphQL,
    yookassa: tuple[FakeYooKassa, LiveServer],
) -> None:
    fake, server = yookassa
    local = dataclasses.replace(settings, yookassa_api_url=f"{server.url}/v3")
    own = Services.create(local, db=services.db)
    app = create_app(local, services=own)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        shop = await make_tenant(GraphQL(client, platform.bearer))
        await shop.panel.data(
            SET_PROVIDER,
            input={"provider": "YOOKASSA", "account": fake.shop_id, "secret": fake.secret_key},
        )
        path = f"/v1/workspaces/{workspace_uuid(shop)}/payments/yookassa/notifications"
        invoice, _ = await issued_invoice(shop, "2500")
        invoice_uuid = str(parse_global_id(invoice["id"]).row_id)

        def notification(payment_id: str, event: str = "payment.succeeded") -> dict[str, Any]:
            # What the notification says is not believed: only what the API answers.
            return {
                "type": "notification",
                "event": event,
                "object": {
                    "id": payment_id,
                    "status": "succeeded",
                    "paid": True,
                    "amount": {"value": "999999.00", "currency": "RUB"},
                },
            }

        forged = await client.post(path, json=notification("2d7a-forged"))
        assert forged.status_code == 404
        fake.payments["2d7a-pending"] = yookassa_payment(
            "2d7a-pending", invoice_uuid, "2500.00", "pending"
        )
        pending = await client.post(path, json=notification("2d7a-pending"))
        assert pending.status_code == 409
        ignored = await client.post(path, json=notification("2d7a-pending", "payment.canceled"))
        assert ignored.status_code == 200
        node = (await shop.panel.data(INVOICE, id=invoice["id"]))["node"]
        assert (node["status"], node["payments"]) == ("ISSUED", [])

        fake.payments["2d7a-part"] = yookassa_payment(
            "2d7a-part", invoice_uuid, "1000.00", "succeeded"
        )
        fake.payments["2d7a-rest"] = yookassa_payment(
            "2d7a-rest", invoice_uuid, "1500.00", "succeeded"
        )
        first = await asyncio.gather(
            *(client.post(path, json=notification("2d7a-part")) for _ in range(3))
        )
        assert {r.status_code for r in first} == {200}
        node = (await shop.panel.data(INVOICE, id=invoice["id"]))["node"]
        assert (node["status"], node["paid"]) == ("PARTLY_PAID", "1000.00")
        for _ in range(2):
            assert (await client.post(path, json=notification("2d7a-rest"))).status_code == 200
        node = (await shop.panel.data(INVOICE, id=invoice["id"]))["node"]
        assert (node["status"], node["paid"]) == ("PAID", "2500.00")
        assert [(p["amount"], p["providerPaymentId"]) for p in node["payments"]] == [
            ("1000.00", "2d7a-part"),
            ("1500.00", "2d7a-rest"),
        ]
        assert len(await events(services, shop, "invoice.paid")) == 1

        # Wrong credentials are the shop's problem; an unreachable API is a retry.
        await shop.panel.data(
            SET_PROVIDER, input={"provider": "YOOKASSA", "account": fake.shop_id, "secret": "old"}
        )
        assert (await client.post(path, json=notification("2d7a-part"))).status_code == 403
        await server.stop()
        down = await client.post(path, json=notification("2d7a-part"))
        assert down.status_code == 503 and down.headers["retry-after"] == "60"
        assert (await client.post(path, content=b"{not json")).status_code == 400
        await own.provider_client.aclose()
