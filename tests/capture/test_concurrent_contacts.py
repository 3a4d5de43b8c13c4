"""One person is one contact however many of their submissions are processed at once (K1).

Eight people each send the same form twice at the same moment, once with "+7 917 …" and an
e-mail, once with "8 (917) …" alone; the submissions are processed by several tasks of one
process, and by several OS processes against the same database.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from conftest import SECRET, GraphQL
from embedcrm.config import Settings
from factories import make_tenant, page_view_token, submission, submit

PEOPLE = 8
HERE = Path(__file__).parent
CONTACTS = "{ contacts(first: 100) { totalCount edges { node { email phone } } } }"
LEAD_COUNT = "{ leads { totalCount } }"


def both_forms(person: int) -> list[dict[str, Any]]:
    """The two submissions one person sends: the phone written two ways, the e-mail once."""
    digits = f"{person:02d}"
    return [
        submission(
            email=f"person{person}@example.com",
            phone=f"+7 917 000-00-{digits}",
            name=f"Клиент {person}",
        ),
        submission(email="", phone=f"8 (917) 000-00-{digits}", name=f"Клиент {person}"),
    ]


async def assert_one_contact_per_person(tenant: Any, leads: int) -> None:
    contacts = (await tenant.panel.data(CONTACTS))["contacts"]
    phones = sorted(edge["node"]["phone"] for edge in contacts["edges"])
    assert phones == [f"+791700000{p:02d}" for p in range(PEOPLE)], phones
    assert contacts["totalCount"] == PEOPLE
    emails = {edge["node"]["email"] for edge in contacts["edges"]}
    assert emails == {f"person{p}@example.com" for p in range(PEOPLE)}
    assert (await tenant.panel.data(LEAD_COUNT))["leads"]["totalCount"] == leads


async def test_a_burst_in_one_process_makes_one_contact_per_person(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    bodies = [body for _ in range(4) for p in range(PEOPLE) for body in both_forms(p)]
    responses = await asyncio.gather(*(submit(client, tenant, body) for body in bodies))
    assert {r.status_code for r in responses} == {202}
    await assert_one_contact_per_person(tenant, leads=len(bodies))


async def test_bursts_from_app_processes_and_a_worker_make_one_contact_per_person(
    platform: GraphQL, settings: Settings
) -> None:
    """Three app processes make leads as they accept; a fourth only stores, and a worker
    process makes those leads, scanning everything unprocessed as it comes."""
    tenant = await make_tenant(platform)
    env = {
        **os.environ,
        "EMBEDCRM_DATABASE_URL": settings.database_url,
        "EMBEDCRM_SECRET_KEYS": SECRET,
        "EMBEDCRM_RATE_LIMIT_VISITOR": "",
        "EMBEDCRM_RATE_LIMIT_SITE": "",
    }
    # Every app process sends both forms of every person, all at the same moment; each form
    # carries a token of its own, as each page view gets one from the site's config.
    origin = f"https://{tenant.domain}"

    def with_tokens(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**body, "form_token": page_view_token([SECRET], tenant)} for body in bodies]

    start_at = time.time() + 6
    apps = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "submit_burst.py"),
                tenant.site_key,
                origin,
                str(start_at),
                json.dumps(with_tokens([body for p in range(PEOPLE) for body in both_forms(p)])),
            ],
            env={**env, "EMBEDCRM_PROCESS_INLINE": inline},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for inline in ("1", "1", "1", "0")
    ]
    worker = subprocess.Popen(
        [sys.executable, "-m", "embedcrm", "worker"],
        env={**env, "EMBEDCRM_PROCESS_INLINE": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    expected_leads = len(apps) * 2 * PEOPLE
    try:
        for app in apps:
            out, err = await asyncio.to_thread(app.communicate, timeout=120)
            assert app.returncode == 0, (out.decode(), err.decode()[-3000:])
            assert json.loads(out)["accepted"] == 2 * PEOPLE
        # The worker scans every five seconds.
        for _ in range(300):
            leads = (await tenant.panel.data(LEAD_COUNT))["leads"]["totalCount"]
            if leads >= expected_leads:
                break
            await asyncio.sleep(0.1)
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
    await assert_one_contact_per_person(tenant, leads=expected_leads)
