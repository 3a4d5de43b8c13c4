"""Alerts to the shop: who is told of a new lead, an unanswered lead and an overdue task, on
which channels, after quiet hours or in a digest; made once however many workers scan."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from webhooks.webhook_support import FakeClock

from conftest import GraphQL
from embedcrm.alerts.models import Alert, DigestMode
from embedcrm.alerts.schedule import Rhythm, deliver_at
from embedcrm.alerts.service import AlertService
from embedcrm.graphql.ids import parse_global_id
from embedcrm.messages.models import Message, MessageStatus
from embedcrm.messages.quiet import QuietHours
from embedcrm.services import Services
from embedcrm.webhooks.fanout import FanOut
from factories import Tenant, make_tenant, submission, submit

ISSUE = """
mutation($ws: ID!, $ext: String!, $role: Role!, $email: String) {
  issuePanelToken(input: {workspaceId: $ws, member: {externalId: $ext, name: "Мария",
                  email: $email}, role: $role, ttlSeconds: 900}) {
    token member { id } userErrors { field message code } } }
"""
UPDATE = """
mutation($member: ID, $channels: [MessageChannel!]!, $phone: String, $chat: String,
         $from: String, $to: String, $digest: DigestMode!) {
  updateAlertSettings(input: {memberId: $member, channels: $channels, phone: $phone,
                      telegramChat: $chat, quietFrom: $from, quietTo: $to, digest: $digest}) {
    settings { memberId channels phone telegramChat quietFrom quietTo digest }
    userErrors { field message code } } }
"""
SETTINGS = "query($member: ID) { alertSettings(memberId: $member) { memberId channels digest } }"
CREATE_TASK = """
mutation($title: String!, $due: DateTime!, $assignee: ID, $ws: ID) {
  createTask(input: {title: $title, dueAt: $due, assigneeId: $assignee, workspaceId: $ws}) {
    task { id } userErrors { field message code } } }
"""

MOSCOW = "Europe/Moscow"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "rhythm", "expected"),
    [
        # Any hour: at once.
        ("2026-11-30T12:00:00", Rhythm(), "2026-11-30T12:00:00"),
        # 23:30 in Moscow is 20:30 UTC, inside 22:00-08:00: the next 08:00 Moscow, 05:00 UTC.
        (
            "2026-11-30T20:30:00",
            Rhythm(quiet=QuietHours(22 * 60, 8 * 60)),
            "2026-12-01T05:00:00",
        ),
        # 07:59 Moscow is still quiet; 08:00 is not.
        (
            "2026-11-30T04:59:00",
            Rhythm(quiet=QuietHours(22 * 60, 8 * 60)),
            "2026-11-30T05:00:00",
        ),
        (
            "2026-11-30T05:00:00",
            Rhythm(quiet=QuietHours(22 * 60, 8 * 60)),
            "2026-11-30T05:00:00",
        ),
        # Quiet hours within a day (13:00-14:00 Moscow).
        (
            "2026-11-30T10:15:00",
            Rhythm(quiet=QuietHours(13 * 60, 14 * 60)),
            "2026-11-30T11:00:00",
        ),
        # Hourly: the next full hour; an hour landing in the quiet hours waits for their end.
        ("2026-11-30T12:10:00", Rhythm(digest=DigestMode.HOURLY), "2026-11-30T13:00:00"),
        (
            "2026-11-30T18:40:00",
            Rhythm(digest=DigestMode.HOURLY, quiet=QuietHours(22 * 60, 8 * 60)),
            "2026-12-01T05:00:00",
        ),
        # Daily: 09:00 Moscow, or the end of the quiet hours.
        ("2026-11-30T07:00:00", Rhythm(digest=DigestMode.DAILY), "2026-12-01T06:00:00"),
        ("2026-11-30T05:30:00", Rhythm(digest=DigestMode.DAILY), "2026-11-30T06:00:00"),
        (
            "2026-11-30T07:00:00",
            Rhythm(digest=DigestMode.DAILY, quiet=QuietHours(21 * 60, 7 * 60 + 30)),
            "2026-12-01T04:30:00",
        ),
    ],
)
def test_when_an_alert_may_go(now: str, rhythm: Rhythm, expected: str) -> None:
    assert deliver_at(at(now), MOSCOW, rhythm) == at(expected)


def test_a_daily_digest_keeps_its_wall_clock_hour_across_daylight_saving() -> None:
    # Berlin moves to summer time on 2027-03-28: 09:00 is 08:00 UTC before, 07:00 UTC after.
    daily = Rhythm(digest=DigestMode.DAILY)
    assert deliver_at(at("2027-03-27T10:00:00"), "Europe/Berlin", daily) == at(
        "2027-03-28T07:00:00"
    )
    assert deliver_at(at("2027-03-26T10:00:00"), "Europe/Berlin", daily) == at(
        "2027-03-27T08:00:00"
    )


async def member(
    platform: GraphQL, tenant: Tenant, role: str, email: str | None
) -> tuple[str, GraphQL]:
    data = await platform.data(
        ISSUE, ws=tenant.workspace_id, ext=f"m-{uuid.uuid4().hex[:8]}", role=role, email=email
    )
    issued = data["issuePanelToken"]
    return issued["member"]["id"], GraphQL(platform.client, issued["token"])


async def feed(services: Services) -> None:
    """What the webhook dispatcher does first: the new events get their feed position."""
    fan_out = FanOut(services.db, clock=lambda: datetime.now(UTC), batch=500)
    while await fan_out.fan_out():
        pass


async def scan_all(alerts: AlertService) -> None:
    """Read the feed to its end, as the worker does round after round: one scan reads at most
    500 events, and a whole suite run leaves thousands before this workspace's."""
    while await alerts.scan():
        pass


async def messages_of(services: Services, workspace_id: uuid.UUID) -> list[Message]:
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(Message)
            .where(Message.workspace_id == workspace_id, Message.contact_id.is_(None))
            .order_by(Message.created_at, Message.recipient)
        )
        return list(rows)


async def alerts_of(services: Services, workspace_id: uuid.UUID) -> list[Alert]:
    async with services.db.transaction() as session:
        rows = await session.scalars(select(Alert).where(Alert.workspace_id == workspace_id))
        return list(rows)


async def test_a_new_lead_tells_the_owners_once_on_their_channels(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    clock = FakeClock()
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).workspace_id
    owner_id, owner = await member(platform, tenant, "OWNER", "owner@shop.example")
    quiet_owner_id, quiet_owner = await member(platform, tenant, "OWNER", None)
    await member(platform, tenant, "MANAGER", "manager@shop.example")
    # One owner also wants SMS and Telegram; the other has no e-mail and chose Telegram only.
    chosen = (
        await owner.data(
            UPDATE,
            channels=["EMAIL", "SMS", "TELEGRAM"],
            phone="+7 912 000-11-22",
            chat="@owner_chat",
            digest="OFF",
        )
    )["updateAlertSettings"]
    assert chosen["userErrors"] == []
    assert chosen["settings"]["phone"] == "+79120001122"
    assert (await quiet_owner.data(UPDATE, channels=["TELEGRAM"], chat="12345", digest="OFF"))[
        "updateAlertSettings"
    ]["userErrors"] == []

    alerts = AlertService(services.db, email_built_in=False, clock=clock)
    await feed(services)
    await scan_all(alerts)  # what other tests left is behind this worker's start
    response = await submit(client, tenant, submission(name="Анна Петрова"))
    assert response.status_code == 202
    await feed(services)
    await scan_all(alerts)
    # A second worker, started now, reads the same events and makes nothing twice.
    await AlertService(services.db, email_built_in=False, clock=clock).scan()
    await alerts.flush()
    await alerts.flush()

    made = await alerts_of(services, workspace_id)
    # The tenant's first owner (who chose nothing) is told too; the manager is not.
    assert len(made) == 3
    assert {parse_global_id(m).row_id for m in (owner_id, quiet_owner_id)} < {
        a.member_id for a in made
    }
    sent = await messages_of(services, workspace_id)
    assert sorted((m.channel.value, m.recipient) for m in sent) == [
        ("EMAIL", "ivan@example.com"),
        ("EMAIL", "owner@shop.example"),
        ("SMS", "+79120001122"),
        ("TELEGRAM", "12345"),
        ("TELEGRAM", "@owner_chat"),
    ]
    assert all(m.subject.startswith("Новая заявка: ") for m in sent)
    # No SMTP here: every alert went to the host's gateway, to be reported back.
    assert all(m.status is MessageStatus.QUEUED and m.next_attempt_at is None for m in sent)


async def test_quiet_hours_and_a_digest_gather_alerts_into_one_message(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).workspace_id
    owner_id, owner = await member(platform, tenant, "OWNER", "digest@shop.example")
    owner_ws_id = parse_global_id(owner_id).row_id
    # 21:30 in Moscow; quiet from 22:00 to 08:00, hourly digest: the 22:00 digest waits for 08:00.
    clock = FakeClock(at("2026-11-30T18:30:00"))
    set_up = await owner.data(
        UPDATE, channels=["EMAIL"], digest="HOURLY", **{"from": "22:00", "to": "08:00"}
    )
    assert set_up["updateAlertSettings"]["settings"]["quietFrom"] == "22:00"
    alerts = AlertService(services.db, email_built_in=False, clock=clock)
    await feed(services)
    await scan_all(alerts)
    for name in ("Анна", "Борис", "Вера"):
        await submit(client, tenant, submission(name=name, email=f"{uuid.uuid4().hex}@example.com"))
    await feed(services)
    # The events were made now, by the real clock: the scan reads them by position.
    await scan_all(alerts)
    mine = [a for a in await alerts_of(services, workspace_id) if a.member_id == owner_ws_id]
    assert len(mine) == 3
    assert {a.due_at for a in mine} == {at("2026-12-01T05:00:00")}
    await alerts.flush()
    # The tenant's first owner chose nothing and was told of each at once.
    assert {m.recipient for m in await messages_of(services, workspace_id)} == {"ivan@example.com"}

    clock.set(at("2026-12-01T05:00:00"))
    await alerts.flush()
    (digest,) = [
        m for m in await messages_of(services, workspace_id) if m.recipient == "digest@shop.example"
    ]
    assert digest.subject == "Уведомления CRM: 3"
    assert digest.body.count("• Новая заявка: ") == 3
    assert digest.template == "alert.digest"


async def test_an_overdue_task_tells_its_assignee_and_roles_guard_the_settings(
    platform: GraphQL, services: Services
) -> None:
    clock = FakeClock()
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).workspace_id
    owner_id, owner = await member(platform, tenant, "OWNER", "boss@shop.example")
    manager_id, manager = await member(platform, tenant, "MANAGER", "worker@shop.example")
    alerts = AlertService(services.db, email_built_in=False, clock=clock)
    await feed(services)
    await scan_all(alerts)

    # A manager reads and sets only their own; the owner anyone's.
    assert (await manager.data(SETTINGS))["alertSettings"]["channels"] == ["EMAIL"]
    refused = await manager.data(UPDATE, member=owner_id, channels=[], digest="OFF")
    assert [e["code"] for e in refused["updateAlertSettings"]["userErrors"]] == ["forbidden"]
    bad = await owner.data(
        UPDATE,
        member=manager_id,
        channels=["EMAIL"],
        digest="OFF",
        **{"from": "25:00", "to": "08:00"},
    )
    assert [e["field"] for e in bad["updateAlertSettings"]["userErrors"]] == ["quietFrom"]
    half = await owner.data(
        UPDATE, member=manager_id, channels=["EMAIL"], digest="OFF", **{"from": "22:00"}
    )
    assert [e["field"] for e in half["updateAlertSettings"]["userErrors"]] == ["quietTo"]
    no_phone = await owner.data(UPDATE, member=manager_id, channels=["SMS"], digest="OFF")
    assert [e["field"] for e in no_phone["updateAlertSettings"]["userErrors"]] == ["phone"]

    due = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    created = await owner.data(
        CREATE_TASK, title="Позвонить поставщику", due=due, assignee=manager_id
    )
    assert created["createTask"]["userErrors"] == []
    await services.tasks.emit_overdue()
    await feed(services)
    await scan_all(alerts)
    await alerts.flush()
    sent = await messages_of(services, workspace_id)
    assert [(m.recipient, m.subject) for m in sent] == [
        ("worker@shop.example", "Задача просрочена: Позвонить поставщику")
    ]
    assert [a.sent_at for a in await alerts_of(services, workspace_id)] == [clock.now]
