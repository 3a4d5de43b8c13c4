"""Rate limits per site and per visitor, with the `limits` library.

In memory by default; with EMBEDCRM_REDIS_URL the counters live in Redis, so every process of
one deployment shares them. The sliding-window counter avoids the double burst a fixed window
allows at its boundary.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from embedcrm.errors import RateLimited


class SubmissionLimits:
    def __init__(self, *, per_visitor: str, per_site: str, redis_url: str | None) -> None:
        self.per_visitor: list[RateLimitItem] = parse_many(per_visitor) if per_visitor else []
        self.per_site: list[RateLimitItem] = parse_many(per_site) if per_site else []
        storage: Storage
        if redis_url:
            uri = redis_url if redis_url.startswith("async+") else "async+" + redis_url
            storage = RedisStorage(uri, implementation="redispy", key_prefix="embedcrm")
        else:
            storage = MemoryStorage()
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    async def check(self, site_key: str, visitor_ip: str | None) -> None:
        """Count one submission; raise RateLimited, with the wait, when over a limit."""
        checks: list[tuple[RateLimitItem, tuple[str, ...]]]
        checks = [(item, ("site", site_key)) for item in self.per_site]
        if visitor_ip:
            checks += [(item, ("visitor", site_key, visitor_ip)) for item in self.per_visitor]
        # Test every limit before counting against any, so a refused request uses up nothing.
        for item, identifiers in checks:
            if not await self.limiter.test(item, *identifiers):
                stats = await self.limiter.get_window_stats(item, *identifiers)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                raise RateLimited("Too many submissions; try again later.", retry_after=wait)
        for item, identifiers in checks:
            await self.limiter.hit(item, *identifiers)
