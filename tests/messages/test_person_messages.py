"""What is sent to a person and what they answered, wherever the person goes: on their
timeline with the message's status, into a merge and back out of its undo, into their data
export and out with their erasure; node(id:) and the feedback report show a MANAGER only the
contacts they see."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from test_feedback import ASSIGN, REPORT, answer, links_for, manager_of

from conftest import GraphQL
from embedcrm.feedback.models import FeedbackAnswer
from embedcrm.graphql.ids import parse_global_id
from embedcrm.messages.models import Message, MessageOptOut
from embedcrm.services import Services
from factories import make_tenant

SEND = """
mutation($contact: ID!, $body: String!) { sendMessage(input: {contactId: $contact,
    channel: SMS, subject: "", body: $body}) { message { id } userErrors { code } } }
"""
REPORT_STATUS = """
mutation($id: ID!, $status: MessageStatus!) { reportMessageStatus(input: {id: $id,
    status: $status}) { message { status } userErrors { code } } }
"""
TIMELINE = """
query($id: ID!) { node(id: $id) { ... on Contact { timeline(first: 50) { edges { node {
  kind body author { id } message { id channel status } } } } } } }
"""
NOTE = """
mutation($contact: ID!, $data: JSON!) { addActivity(input: {contactId: $contact, kind: MESSAGE,
    body: "от руки", data: $data}) { userErrors { code } } }
"""
OF_CONTACT = """
query($contact: ID!) {
  messages(contactId: $contact, first: 20) { totalCount }
  feedbackAnswers(contactId: $contact) { totalCount edges { node { id score } } } }
"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
MERGE = """mutation($keep: ID!, $gone: ID!) { mergeContacts(input: {keepId: $keep,
    mergeId: $gone}) { merge { id } userErrors { code } } }"""
UNDO = """mutation($id: ID!) { undoContactMerge(input: {id: $id}) {
    merge { id } userErrors { code } } }"""
EXPORT = "query($id: ID!) { personalData(contactId: $id) }"
ERASE = """mutation($id: ID!) { erasePerson(input: {contactId: $id}) {
    erasure { counts } userErrors { code } } }"""


async def send(gql: GraphQL, contact: str, body: str = "Заказ готов") -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(SEND, contact=contact, body=body))["sendMessage"]
    return payload


async def message_entries(gql: GraphQL, contact: str) -> list[dict[str, Any]]:
    node = (await gql.data(TIMELINE, id=contact))["node"]
    return [e["node"] for e in node["timeline"]["edges"] if e["node"]["kind"] == "MESSAGE"]


async def unsubscribe(services: Services, contact: str) -> None:
    gid = parse_global_id(contact)
    await services.messages.unsubscribe(
        services.messages.tokens.token(gid.workspace_id, gid.row_id)
    )


async def test_each_message_is_on_the_contact_s_timeline_with_its_channel_and_live_status(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    (_, contact, _), (_, other, _) = await links_for(client, tenant, 2)
    sent = await send(tenant.panel, contact, "Ваш заказ собран")
    assert sent["userErrors"] == []
    message_id = sent["message"]["id"]
    (entry,) = await message_entries(tenant.panel, contact)
    assert entry["body"] == "Ваш заказ собран"
    assert entry["message"] == {"id": message_id, "channel": "SMS", "status": "QUEUED"}
    # The host's gateway reports the message delivered: the timeline reads it as it is now.
    reported = await platform.data(REPORT_STATUS, id=message_id, status="DELIVERED")
    assert reported["reportMessageStatus"]["userErrors"] == []
    (entry,) = await message_entries(tenant.panel, contact)
    assert entry["message"]["status"] == "DELIVERED"
    failed = (await send(tenant.panel, contact, "Второе"))["message"]["id"]
    await platform.data(REPORT_STATUS, id=failed, status="FAILED")
    statuses = {
        e["body"]: e["message"]["status"] for e in await message_entries(tenant.panel, contact)
    }
    assert statuses == {"Ваш заказ собран": "DELIVERED", "Второе": "FAILED"}

    # An entry a member writes by hand names no message, whatever data it carries: naming
    # another contact's message there would read it past the rules.
    foreign = (await send(tenant.panel, other))["message"]["id"]
    for data in (
        {"message_id": str(parse_global_id(foreign).row_id)},
        {"message_id": "not-a-uuid"},
    ):
        added = await tenant.panel.data(NOTE, contact=contact, data=data)
        assert added["addActivity"]["userErrors"] == []
    by_hand = [e for e in await message_entries(tenant.panel, contact) if e["body"] == "от руки"]
    assert len(by_hand) == 2 and all(e["message"] is None for e in by_hand)


async def test_node_answers_messages_and_answers_as_the_contact_card_lists_them(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    (a_lead, _, a_path), (b_lead, b_contact, b_path) = await links_for(client, tenant, 2)
    for path, score in ((a_path, 10), (b_path, 3)):
        assert (await answer(client, path, score)).status_code == 200
    b_message = (await send(tenant.panel, b_contact))["message"]["id"]
    b_answer = (await tenant.panel.data(OF_CONTACT, contact=b_contact))["feedbackAnswers"]["edges"][
        0
    ]["node"]["id"]
    anna, _ = await manager_of(platform, tenant)
    boris, boris_id = await manager_of(platform, tenant)
    assert (await tenant.panel.data(ASSIGN, lead=b_lead, who=boris_id))["assignLead"][
        "userErrors"
    ] == []
    assert (await tenant.panel.data(ASSIGN, lead=a_lead, who=None))["assignLead"][
        "userErrors"
    ] == []
    for item in (b_message, b_answer):
        assert (await tenant.panel.data(NODE, id=item))["node"] == {"id": item}
        assert (await platform.data(NODE, id=item))["node"] == {"id": item}
        assert (await boris.data(NODE, id=item))["node"] == {"id": item}
        # Boris's client is not Anna's to see, nor another workspace's.
        assert (await anna.data(NODE, id=item))["node"] is None
        assert (await (await make_tenant(platform)).panel.data(NODE, id=item))["node"] is None

    # The feedback report: each manager's figures are of the clients they see.
    now = datetime.now(UTC)
    period = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }

    async def overall(gql: GraphQL) -> dict[str, Any]:
        report: dict[str, Any] = (await gql.data(REPORT, kind="NPS", **period))["feedbackReport"]
        return {"overall": report["overall"], "comments": len(report["comments"])}

    assert (await overall(tenant.panel))["overall"]["count"] == 2
    # Anna sees the unassigned lead's client alone; Boris that one and his own.
    assert (await overall(anna))["overall"] == {"count": 1, "average": 10.0, "nps": 100}
    assert (await overall(boris))["overall"] == {"count": 2, "average": 6.5, "nps": 0}


async def test_a_merge_moves_messages_opt_out_and_answers_and_its_undo_gives_them_back(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    (_, keep, keep_path), (_, gone, gone_path) = await links_for(client, tenant, 2)
    assert (await answer(client, keep_path, 9)).status_code == 200
    assert (await answer(client, gone_path, 4, "Долго")).status_code == 200
    assert (await send(tenant.panel, keep))["userErrors"] == []
    gone_message = (await send(tenant.panel, gone))["message"]["id"]
    await unsubscribe(services, gone)
    assert [e["code"] for e in (await send(tenant.panel, gone))["userErrors"]] == ["conflict"]

    merged = (await tenant.panel.data(MERGE, keep=keep, gone=gone))["mergeContacts"]
    assert merged["userErrors"] == []
    seen = await tenant.panel.data(OF_CONTACT, contact=keep)
    assert seen["messages"]["totalCount"] == 2
    assert sorted(e["node"]["score"] for e in seen["feedbackAnswers"]["edges"]) == [4, 9]
    # The person unsubscribed under the other name: the survivor gets nothing either.
    assert [e["code"] for e in (await send(tenant.panel, keep))["userErrors"]] == ["conflict"]
    assert {e["message"]["id"] for e in await message_entries(tenant.panel, keep)} >= {gone_message}

    undone = (await tenant.panel.data(UNDO, id=merged["merge"]["id"]))["undoContactMerge"]
    assert undone["userErrors"] == []
    for contact, score in ((keep, 9), (gone, 4)):
        back = await tenant.panel.data(OF_CONTACT, contact=contact)
        assert back["messages"]["totalCount"] == 1
        assert [e["node"]["score"] for e in back["feedbackAnswers"]["edges"]] == [score]
    assert (await tenant.panel.data(NODE, id=gone_message))["node"] == {"id": gone_message}
    # The opt-out is the restored contact's again; the kept one may be written to.
    assert [e["code"] for e in (await send(tenant.panel, gone))["userErrors"]] == ["conflict"]
    assert (await send(tenant.panel, keep))["userErrors"] == []

    # Merging the other way, into the contact that unsubscribed, keeps its opt-out once.
    again = (await tenant.panel.data(MERGE, keep=gone, gone=keep))["mergeContacts"]
    assert again["userErrors"] == []
    assert (await tenant.panel.data(OF_CONTACT, contact=gone))["messages"]["totalCount"] == 3
    workspace = parse_global_id(gone).workspace_id
    async with services.db.transaction() as session:
        opt_outs = await session.scalar(
            select(func.count())
            .select_from(MessageOptOut)
            .where(MessageOptOut.workspace_id == workspace)
        )
    assert opt_outs == 1
    back_again = (await tenant.panel.data(UNDO, id=again["merge"]["id"]))["undoContactMerge"]
    assert back_again["userErrors"] == []
    assert [e["code"] for e in (await send(tenant.panel, gone))["userErrors"]] == ["conflict"]
    assert (await send(tenant.panel, keep))["userErrors"] == []


async def test_the_export_holds_and_the_erasure_removes_messages_opt_out_and_answers(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    (_, person, path), (_, bystander, other_path) = await links_for(client, tenant, 2)
    assert (await answer(client, path, 7, "Нормально")).status_code == 200
    assert (await answer(client, other_path, 10)).status_code == 200
    await send(tenant.panel, person, "Личное сообщение")
    await send(tenant.panel, bystander, "Чужое сообщение")
    await unsubscribe(services, person)

    exported = (await tenant.panel.data(EXPORT, id=person))["personalData"]
    assert [m["body"] for m in exported["messages"]] == ["Личное сообщение"]
    assert exported["messages"][0]["channel"] == "SMS"
    assert len(exported["opt_outs"]) == 1
    assert [(a["score"], a["comment"]) for a in exported["feedback_answers"]] == [(7, "Нормально")]

    counts = (await tenant.panel.data(ERASE, id=person))["erasePerson"]["erasure"]["counts"]
    assert (counts["messages"], counts["opt_outs"], counts["feedback_answers"]) == (1, 1, 1)
    workspace = parse_global_id(person).workspace_id
    person_id = parse_global_id(person).row_id
    async with services.db.transaction() as session:
        for model, column in (
            (Message, Message.contact_id),
            (MessageOptOut, MessageOptOut.contact_id),
            (FeedbackAnswer, FeedbackAnswer.contact_id),
        ):
            left = await session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.workspace_id == workspace, column == person_id)
            )
            assert left == 0, model
        bodies = list(
            await session.scalars(select(Message.body).where(Message.workspace_id == workspace))
        )
    assert bodies == ["Чужое сообщение"]
    still = await tenant.panel.data(OF_CONTACT, contact=bystander)
    assert still["messages"]["totalCount"] == 1
    assert still["feedbackAnswers"]["totalCount"] == 1
    assert uuid.UUID(str(person_id))


async def test_links_sent_before_a_merge_reach_the_contact_kept(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    (_, keep, _), (_, gone, gone_path) = await links_for(client, tenant, 2)
    merged = (await tenant.panel.data(MERGE, keep=keep, gone=gone))["mergeContacts"]
    assert merged["userErrors"] == []
    # The e-mail sent before the merge: its feedback page still asks, its answer lands on the
    # contact kept, and its unsubscribe link stops what is sent to that contact.
    assert (await client.get(gone_path)).status_code == 200
    assert (await answer(client, gone_path, 10, "Спасибо")).status_code == 200
    kept = await tenant.panel.data(OF_CONTACT, contact=keep)
    assert [e["node"]["score"] for e in kept["feedbackAnswers"]["edges"]] == [10]
    assert (await send(tenant.panel, keep))["userErrors"] == []
    gid = parse_global_id(gone)
    page = await client.post(
        services.messages.tokens.url(gid.workspace_id, gid.row_id).removeprefix("http://crm.test")
    )
    assert page.status_code == 200
    assert [e["code"] for e in (await send(tenant.panel, keep))["userErrors"]] == ["conflict"]
    # Once the person is erased, the old links reach nobody.
    assert (await tenant.panel.data(ERASE, id=keep))["erasePerson"]["userErrors"] == []
    assert (await client.get(gone_path)).status_code == 404
