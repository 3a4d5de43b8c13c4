"""A small data set with known answers, inserted with explicit timestamps.

The workspace's time zone is Europe/Moscow (UTC+3 all year). The period under report is
March 2024 in Moscow time: 2024-02-29T21:00Z ≤ t < 2024-03-31T21:00Z. Stages of the default
pipeline: Новый (0, 10 %), В работе (1, 30 %), Предложение (2, 60 %), Успешно (WON),
Отказ (LOST).

| lead | created (UTC)   | UTM (last touch)    | first touch            | who | path (UTC)                                          | value |
| ---- | --------------- | ------------------- | ---------------------- | --- | --------------------------------------------------- | ----- |
| L6   | 02-20 10:00     | yandex/cpc/autumn   | (own)                  | M1  | Новый → Успешно 03-03 12:00                          | 700   |
| L7   | 02-25 10:00     | yandex/cpc/autumn   | (own)                  | M1  | Новый → Предложение 02-26 10:00; close 03-31 22:00Z | 1000  |
| L1   | 03-02 09:00     | yandex/cpc/spring   | vk/social/promo (lead) | M1  | → В работе +1h → Предложение +24h → Успешно +48h    | 1000  |
| L2   | 03-02 21:30     | yandex/cpc/spring   | contact's (= L6's)     | M1  | → В работе +3h → Отказ +24h                         | 500   |
| L3   | 03-10 08:00     | google/cpc/brand    | (own)                  | M2  | → Успешно +48h (skips two stages)                   | 2000  |
| L4   | 03-10 12:00     | google/cpc/brand    | (own)                  | M2  | stays in Новый; close 03-20 09:00Z                  | 300   |
| L5   | 03-20 06:00     | none                | none                   | —   | → В работе +2h                                      | none  |

L2 and L6 are one person, so L2 (which has no first touch of its own) takes the contact's.
L2 at 21:30Z is already 00:30 on 3 March in Moscow.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from conftest import GraphQL
from embedcrm.auth import Platform
from embedcrm.contacts.service import Person
from embedcrm.graphql.ids import parse_global_id
from embedcrm.leads.models import Activity, ActivityKind, Lead, LeadItem
from embedcrm.leads.moves import stand_lead_on
from embedcrm.leads.repository import (
    ActivityRepository,
    ItemRepository,
    LeadRepository,
    StageChangeRepository,
)
from embedcrm.leads.service import Attribution, NewLead, create_lead
from embedcrm.pipelines.models import Stage
from embedcrm.pipelines.repository import StageRepository
from embedcrm.services import Services
from factories import ISSUE_TOKEN, Tenant, make_tenant

PERIOD = {"from": "2024-02-29T21:00:00Z", "to": "2024-03-31T21:00:00Z"}
NOW = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


@dataclass
class DataSet:
    tenant: Tenant
    workspace: uuid.UUID
    m1: str
    m2: str
    leads: dict[str, uuid.UUID]
    stages: dict[str, uuid.UUID]


class Builder:
    def __init__(self, services: Services, workspace: uuid.UUID) -> None:
        self.services = services
        self.workspace = workspace
        self.stages: dict[str, Stage] = {}

    async def load_stages(self) -> None:
        async with self.services.db.transaction() as session:
            rows = await session.scalars(
                StageRepository(session, self.workspace).select().order_by(Stage.position)
            )
            self.stages = {s.name: s for s in rows}

    async def lead(
        self,
        *,
        created: datetime,
        email: str,
        utm: tuple[str, str, str] | None,
        first_touch: dict[str, Any] | None = None,
        assignee: uuid.UUID | None,
        value: str | None,
        site_id: uuid.UUID | None,
        moves: list[tuple[str, timedelta]] = (),  # type: ignore[assignment]
        response_task_after: timedelta | None = None,
    ) -> uuid.UUID:
        """A lead as capture makes it, then moved along ``moves`` (offsets from its creation) as
        the panel moves leads, and its first-response task done ``response_task_after`` in."""
        source, medium, campaign = utm or (None, None, None)
        async with self.services.db.transaction() as session:
            made = await create_lead(
                session,
                self.workspace,
                NewLead(
                    person=Person(name=email, email=email, email_normalized=email),
                    attribution=Attribution(
                        utm_source=source,
                        utm_medium=medium,
                        utm_campaign=campaign,
                        first_touch=first_touch or {},
                    ),
                    title=f"Заявка {email}",
                    site_id=site_id,
                    occurred_at=created,
                ),
            )
            lead, task = made.lead, made.task
            lead.assignee_id = assignee
            lead.value = Decimal(value) if value is not None else None
            task.assignee_id = assignee
            if response_task_after is not None:
                task.done_at = created + response_task_after
            changes = StageChangeRepository(session, self.workspace)
            current = self.stages["Новый"]
            for name, offset in moves:
                target = self.stages[name]
                changes.add(stand_lead_on(lead, current, target, at=created + offset, by=None))
                current = target
            await session.flush()
            await LeadRepository(session, self.workspace).refresh_first_response(lead.id)
            return lead.id

    async def activity(
        self, lead_id: uuid.UUID, kind: ActivityKind, author: uuid.UUID, when: datetime
    ) -> None:
        async with self.services.db.transaction() as session:
            lead = await LeadRepository(session, self.workspace).get(lead_id)
            assert lead is not None
            ActivityRepository(session, self.workspace).add(
                Activity(
                    contact_id=lead.contact_id,
                    lead_id=lead_id,
                    author_id=author,
                    kind=kind,
                    body="—",
                    created_at=when,
                )
            )
            await session.flush()
            await LeadRepository(session, self.workspace).refresh_first_response(lead_id)

    async def item(
        self, lead_id: uuid.UUID, position: int, qty: str, price: str, cost: str | None
    ) -> None:
        async with self.services.db.transaction() as session:
            ItemRepository(session, self.workspace).add(
                LeadItem(
                    lead_id=lead_id,
                    position=position,
                    product=f"Товар {position}",
                    quantity=Decimal(qty),
                    unit_price=Decimal(price),
                    unit_cost=Decimal(cost) if cost is not None else None,
                )
            )


async def member(platform: GraphQL, tenant: Tenant, name: str) -> str:
    token = await platform.data(
        ISSUE_TOKEN,
        ws=tenant.workspace_id,
        ext=f"{name}-{uuid.uuid4().hex[:6]}",
        role="MANAGER",
        ttl=900,
    )
    member_id: str = token["issuePanelToken"]["member"]["id"]
    return member_id


async def build(platform: GraphQL, services: Services) -> DataSet:
    tenant = await make_tenant(platform)
    workspace = parse_global_id(tenant.workspace_id).row_id
    site = parse_global_id(tenant.site_id).row_id
    m1, m2 = await member(platform, tenant, "ivan"), await member(platform, tenant, "maria")
    m1_id, m2_id = parse_global_id(m1).row_id, parse_global_id(m2).row_id
    b = Builder(services, workspace)
    await b.load_stages()
    h = timedelta(hours=1)
    ids: dict[str, uuid.UUID] = {}
    ids["L6"] = await b.lead(
        created=at(2, 20, 10),
        email="petr@example.com",
        utm=("yandex", "cpc", "autumn"),
        assignee=m1_id,
        value="700",
        site_id=site,
        moves=[("Успешно", at(3, 3, 12) - at(2, 20, 10))],
        response_task_after=timedelta(minutes=5),
    )
    ids["L7"] = await b.lead(
        created=at(2, 25, 10),
        email="olga@example.com",
        utm=("yandex", "cpc", "autumn"),
        assignee=m1_id,
        value="1000",
        site_id=site,
        moves=[("Предложение", 24 * h)],
        response_task_after=timedelta(minutes=5),
    )
    ids["L1"] = await b.lead(
        created=at(3, 2, 9),
        email="anna@example.com",
        utm=("yandex", "cpc", "spring"),
        first_touch={
            "page_url": "https://shop.example.com/",
            "utm": {"source": "vk", "medium": "social", "campaign": "promo"},
        },
        assignee=m1_id,
        value="1000",
        site_id=site,
        moves=[("В работе", h), ("Предложение", 25 * h), ("Успешно", 73 * h)],
        response_task_after=timedelta(minutes=10),
    )
    ids["L2"] = await b.lead(
        created=at(3, 2, 21, 30),
        email="petr@example.com",
        utm=("yandex", "cpc", "spring"),
        assignee=m1_id,
        value="500",
        site_id=site,
        moves=[("В работе", 3 * h), ("Отказ", 27 * h)],
    )
    ids["L3"] = await b.lead(
        created=at(3, 10, 8),
        email="boris@example.com",
        utm=("google", "cpc", "brand"),
        assignee=m2_id,
        value="2000",
        site_id=site,
        moves=[("Успешно", 48 * h)],
        response_task_after=timedelta(minutes=5),
    )
    ids["L4"] = await b.lead(
        created=at(3, 10, 12),
        email="vera@example.com",
        utm=("google", "cpc", "brand"),
        assignee=m2_id,
        value="300",
        site_id=site,
    )
    ids["L5"] = await b.lead(
        created=at(3, 20, 6),
        email="gleb@example.com",
        utm=None,
        assignee=None,
        value=None,
        site_id=site,
        moves=[("В работе", 2 * h)],
    )
    # Answers: L1 a note at +30 min (its task, done at +10 min, came first); L2 a call at
    # +40 min; L5 a note by M2 at +20 min although nobody is assigned. Stage moves and the
    # submissions themselves (no author) are not answers.
    await b.activity(ids["L1"], ActivityKind.NOTE, m1_id, at(3, 2, 9, 30))
    await b.activity(ids["L2"], ActivityKind.CALL, m1_id, at(3, 2, 22, 10))
    await b.activity(ids["L4"], ActivityKind.STAGE_CHANGE, m2_id, at(3, 10, 12, 1))
    await b.activity(ids["L5"], ActivityKind.NOTE, m2_id, at(3, 20, 6, 20))
    await b.item(ids["L1"], 0, "2", "400", "150")
    await b.item(ids["L3"], 0, "1", "2000", None)
    platform_principal = Platform(key_id=uuid.uuid4())
    await services.analytics.set_expected_close(
        platform_principal, workspace, ids["L4"], at(3, 20, 9)
    )
    await services.analytics.set_expected_close(
        platform_principal, workspace, ids["L7"], at(3, 31, 22)
    )
    return DataSet(
        tenant=tenant,
        workspace=workspace,
        m1=m1,
        m2=m2,
        leads=ids,
        stages={name: s.id for name, s in b.stages.items()},
    )


async def lead_count(services: Services, workspace: uuid.UUID) -> int:
    async with services.db.transaction() as session:
        rows = await session.scalars(select(Lead.id).where(Lead.workspace_id == workspace))
        return len(list(rows))
