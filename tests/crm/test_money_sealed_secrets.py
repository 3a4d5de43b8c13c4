"""Payment provider secrets are sealed at rest with a key from EMBEDCRM_SECRET_KEYS: the row holds
no plaintext, callbacks still verify, a new key can be added before the old one goes, and
migration 0018 seals the secrets an older version kept in the clear (its downgrade opens them)
and puts the messages sent before it on their contacts' timelines."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import httpx
import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from test_money_providers import SET_PROVIDER, issued_invoice, signed, workspace_uuid

from conftest import GraphQL, database_at
from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.errors import ConfigurationError
from embedcrm.invoices.models import PaymentProvider
from embedcrm.kit.sealed import SEALED_PREFIX, SecretBox
from embedcrm.leads.models import Activity
from embedcrm.migrations import alembic_config, upgrade_to_head
from embedcrm.services import Services
from factories import make_tenant

PASSWORD = "Пароль#2: p2-secret"
NEW_KEY = "a-newer-signing-key-0123456789"


async def stored_secrets(services: Services, workspace_id: uuid.UUID) -> dict[str, str]:
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(PaymentProvider).where(PaymentProvider.workspace_id == workspace_id)
        )
        return {row.provider.value: row.secret for row in rows}


async def test_the_row_holds_no_plaintext_and_the_callback_still_verifies(
    client: httpx.AsyncClient, services: Services, platform: GraphQL, settings: Settings
) -> None:
    shop = await make_tenant(platform)
    for provider, secret in (("ROBOKASSA", PASSWORD), ("YOOKASSA", "live_yookassa_key")):
        configured = await shop.panel.data(
            SET_PROVIDER, input={"provider": provider, "account": "romashka", "secret": secret}
        )
        assert configured["setPaymentProvider"]["userErrors"] == []
    stored = await stored_secrets(services, workspace_uuid(shop))
    assert set(stored) == {"ROBOKASSA", "YOOKASSA"}
    for value in stored.values():
        assert value.startswith(SEALED_PREFIX)
    assert PASSWORD not in stored["ROBOKASSA"] and "p2-secret" not in stored["ROBOKASSA"]
    assert "live_yookassa_key" not in stored["YOOKASSA"]
    assert SecretBox(settings.secret_keys).open(stored["ROBOKASSA"]) == PASSWORD

    path = f"/v1/workspaces/{workspace_uuid(shop)}/payments/robokassa/result"
    _, number = await issued_invoice(shop, "700")
    assert (await client.post(path, data=signed("700", number, "p2-secret"))).status_code == 403
    paid = await client.post(path, data=signed("700.000000", number, PASSWORD))
    assert paid.status_code == 200 and paid.text == f"OK{number}"

    # A new key is added (last, as it signs): the secret sealed under the old one still opens,
    # and a secret set now is sealed under the new key alone.
    rotated = dataclasses.replace(settings, secret_keys=(*settings.secret_keys, NEW_KEY))
    own = Services.create(rotated, db=services.db)
    app = create_app(rotated, services=own)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://crm.test"
    ) as rotated_client:
        _, second = await issued_invoice(shop, "10")
        answer = await rotated_client.post(path, data=signed("10", second, PASSWORD))
        assert answer.status_code == 200 and answer.text == f"OK{second}"
        again = await GraphQL(rotated_client, shop.panel.bearer).data(
            SET_PROVIDER, input={"provider": "ROBOKASSA", "account": "romashka", "secret": PASSWORD}
        )
        assert again["setPaymentProvider"]["userErrors"] == []
    resealed = (await stored_secrets(services, workspace_uuid(shop)))["ROBOKASSA"]
    assert resealed != stored["ROBOKASSA"]
    assert SecretBox((NEW_KEY,)).open(resealed) == PASSWORD
    with pytest.raises(ConfigurationError):
        SecretBox((NEW_KEY,)).open(stored["ROBOKASSA"])


def test_a_sealed_value_opens_only_with_its_keys_and_plaintext_is_refused() -> None:
    box = SecretBox(("old-key-0123456789", "new-key-0123456789"))
    sealed = box.seal("\u0000 ÿ 🔑")
    assert box.open(sealed) == "\u0000 ÿ 🔑"
    assert box.seal("same") != box.seal("same")
    assert SecretBox(("new-key-0123456789",)).open(sealed) == "\u0000 ÿ 🔑"
    for wrong in (SecretBox(("old-key-0123456789",)), SecretBox(("another-key-0123456789",))):
        with pytest.raises(ConfigurationError):
            wrong.open(sealed)
    with pytest.raises(ConfigurationError):
        box.open("plain-password")
    with pytest.raises(ConfigurationError):
        box.open(SEALED_PREFIX + "not a token")
    with pytest.raises(ConfigurationError):
        SecretBox(())


@pytest.fixture
def database_at_0016(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with database_at(tmp_path_factory, "0016", prefix="embedcrm_sealed") as settings:
        yield settings


async def test_migration_0018_seals_secrets_kept_in_the_clear_and_its_downgrade_opens_them(
    database_at_0016: Settings,
) -> None:
    settings = database_at_0016
    # A connection per statement: the migrations change the column a pooled one has planned for.
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    workspace, contact, message = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    async def timeline() -> list[tuple[str, str, str | None]]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Activity.kind, Activity.body, Activity.data).where(
                    Activity.workspace_id == workspace
                )
            )
            return [(kind, body, (data or {}).get("message_id")) for kind, body, data in rows]

    async def secrets() -> dict[str, str]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT provider, secret FROM payment_providers WHERE workspace_id = :w"),
                {"w": workspace if engine.dialect.name == "postgresql" else workspace.hex},
            )
            return {str(provider): str(secret) for provider, secret in rows}

    try:
        async with engine.begin() as connection:
            key = workspace if engine.dialect.name == "postgresql" else workspace.hex
            await connection.execute(
                text(
                    "INSERT INTO workspaces (id, name, timezone, first_response_minutes,"
                    " managers_edit_all, created_at)"
                    " VALUES (:w, 'Ромашка', 'Europe/Moscow', 15, false, CURRENT_TIMESTAMP)"
                ),
                {"w": key},
            )
            for provider, secret in (("ROBOKASSA", PASSWORD), ("YOOKASSA", "x" * 200)):
                await connection.execute(
                    text(
                        "INSERT INTO payment_providers (workspace_id, provider, account, secret,"
                        " updated_at) VALUES (:w, :p, 'romashka', :s, CURRENT_TIMESTAMP)"
                    ),
                    {"w": key, "p": provider, "s": secret},
                )
            # A message sent before 0018, when messages were not on the timeline.
            await connection.execute(
                text(
                    "INSERT INTO contacts (workspace_id, id, name, custom_fields, first_touch,"
                    " last_touch, created_at, updated_at) VALUES (:w, :c, 'Анна', '{}', '{}',"
                    " '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"w": key, "c": contact if engine.dialect.name == "postgresql" else contact.hex},
            )
            await connection.execute(
                text(
                    "INSERT INTO messages (workspace_id, id, contact_id, channel, recipient,"
                    " template, language, subject, body, status, attempt_count, variables,"
                    " created_at, updated_at) VALUES (:w, :m, :c, 'SMS', '+79120000000',"
                    " 'manual', 'ru', '', 'Заказ готов', 'DELIVERED', 0, '{}',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {
                    "w": key,
                    "m": message if engine.dialect.name == "postgresql" else message.hex,
                    "c": contact if engine.dialect.name == "postgresql" else contact.hex,
                },
            )
        upgrade_to_head(settings)
        sealed = await secrets()
        assert all(value.startswith(SEALED_PREFIX) for value in sealed.values())
        assert PASSWORD not in sealed["ROBOKASSA"] and "x" * 20 not in sealed["YOOKASSA"]
        box = SecretBox(settings.secret_keys)
        assert box.open(sealed["ROBOKASSA"]) == PASSWORD
        assert box.open(sealed["YOOKASSA"]) == "x" * 200
        assert await timeline() == [("MESSAGE", "Заказ готов", str(message))]

        command.downgrade(alembic_config(settings), "0016")
        assert await secrets() == {"ROBOKASSA": PASSWORD, "YOOKASSA": "x" * 200}
        assert await timeline() == []
        upgrade_to_head(settings)
        again = await secrets()
        assert all(value.startswith(SEALED_PREFIX) for value in again.values())
        assert box.open(again["ROBOKASSA"]) == PASSWORD
        assert len(await timeline()) == 1
    finally:
        await engine.dispose()
