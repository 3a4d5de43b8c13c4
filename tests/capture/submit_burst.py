"""One app process for the concurrency tests: posts a burst of submissions at a set moment.

Run as ``python submit_burst.py SITE_KEY ORIGIN START_AT BODIES_JSON`` with EMBEDCRM_* in the
environment. It builds the app as `embedcrm serve` does (inline processing on), sends every
body at once through HTTP in-process, waits until its processor has made every lead, and
exits non-zero if a submission was not accepted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx

from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.services import Services


async def main(site_key: str, origin: str, start_at: float, bodies: list[object]) -> int:
    settings = Settings.from_env()
    services = Services.create(settings)
    app = create_app(settings, services=services)
    url = f"/v1/sites/{site_key}/submissions"
    headers = {"Content-Type": "application/json", "Origin": origin}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://crm.test"
    ) as client:
        # Warm the site cache and the pool so that the burst starts together in every process.
        await services.capture.site_for_key(site_key)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        responses = await asyncio.gather(
            *(client.post(url, content=json.dumps(b).encode(), headers=headers) for b in bodies)
        )
        await services.capture.processor.idle()
    await services.capture.close()
    await services.db.dispose()
    refused = [r.text for r in responses if r.status_code != 202]
    print(json.dumps({"accepted": len(responses) - len(refused), "refused": refused}))
    return 1 if refused else 0


if __name__ == "__main__":
    key, origin_arg, start, bodies_json = sys.argv[1:5]
    sys.exit(asyncio.run(main(key, origin_arg, float(start), json.loads(bodies_json))))
