"""Rate limits per site and per visitor, with the `limits` library.

In memory by default; with EMBEDCRM_REDIS_URL the counters live in Redis, so every process of
one deployment shares them. The sliding-window counter avoids the double burst a fixed window
allows at its boundary. A form token's uses, counted on every submission, are counted in memory
by ``UseWindows`` unless Redis shares them.

A counter that cannot be reached never costs a lead: while Redis fails, this process counts in
its own memory (each process then enforces the limits alone), logs a warning and counts the
fallback in ``fallbacks``; it tries Redis again after ``REDIS_RETRY_SECONDS``.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from embedcrm.capture.spam import token_key
from embedcrm.errors import RateLimited

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 10.0
# How long one Redis call may take before the local counters stand in for it.
REDIS_TIMEOUT_SECONDS = 0.5


class RateLimits:
    """Named groups of limits checked together, counted in Redis or in memory."""

    def __init__(
        self,
        *,
        redis_url: str | None,
        prefix: str = "embedcrm",
        strategy: type[RateLimiter] = SlidingWindowCounterRateLimiter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local: RateLimiter = strategy(MemoryStorage())
        self._shared: RateLimiter | None = None
        if redis_url:
            uri = redis_url if redis_url.startswith("async+") else "async+" + redis_url
            storage: Storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix=prefix,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._shared = strategy(storage)
        self._clock = clock
        self._shared_down_until = 0.0
        # How many checks were counted locally because Redis failed (a metric for /readyz).
        self.fallbacks = 0

    @property
    def mode(self) -> str:
        """Where counts are kept now: "redis", "process", or "process (redis unavailable)"."""
        if self._shared is None:
            return "process"
        return "process (redis unavailable)" if self.degraded else "redis"

    @property
    def degraded(self) -> bool:
        return self._shared is not None and self._clock() < self._shared_down_until

    async def check(
        self, checks: list[tuple[RateLimitItem, tuple[str, ...]]], message: str
    ) -> None:
        """Count one request against every check; raise RateLimited, with the wait, if over."""
        if not checks:
            return
        if self._shared is not None and not self.degraded:
            try:
                await self._check(self._shared, checks, message)
                return
            except RateLimited:
                raise
            except Exception as exc:
                self._shared_down_until = self._clock() + REDIS_RETRY_SECONDS
                log.warning(
                    "rate-limit counters in Redis are unavailable (%s: %s); counting in this "
                    "process for %.0f s",
                    type(exc).__name__,
                    exc,
                    REDIS_RETRY_SECONDS,
                )
        if self._shared is not None:
            self.fallbacks += 1
        await self._check(self._local, checks, message)

    @staticmethod
    async def _check(
        limiter: RateLimiter,
        checks: list[tuple[RateLimitItem, tuple[str, ...]]],
        message: str,
    ) -> None:
        # Test every limit before counting against any, so a refused request uses up nothing.
        for item, identifiers in checks:
            if not await limiter.test(item, *identifiers):
                stats = await limiter.get_window_stats(item, *identifiers)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                raise RateLimited(message, retry_after=wait)
        for item, identifiers in checks:
            await limiter.hit(item, *identifiers)


class SubmissionLimits:
    def __init__(
        self,
        *,
        per_visitor: str,
        per_site: str,
        redis_url: str | None,
        events_per_visitor: str = "",
        form_token_max_age_seconds: int = 2 * 3600,
        form_token_max_uses: int = 0,
    ) -> None:
        self.per_visitor: list[RateLimitItem] = parse_many(per_visitor) if per_visitor else []
        self.per_site: list[RateLimitItem] = parse_many(per_site) if per_site else []
        self.events_per_visitor: list[RateLimitItem] = (
            parse_many(events_per_visitor) if events_per_visitor else []
        )
        self.counters = RateLimits(redis_url=redis_url)
        # A fixed window opened by a token's first use and as long as a token lives: the count
        # then covers the token's whole life exactly (a sliding window would let some uses out).
        self.per_token = (
            RateLimitItemPerSecond(form_token_max_uses, form_token_max_age_seconds)
            if form_token_max_uses
            else None
        )
        self.shared_token_uses = (
            RateLimits(redis_url=redis_url, strategy=FixedWindowRateLimiter) if redis_url else None
        )
        self.local_token_uses = UseWindows(form_token_max_uses, form_token_max_age_seconds)

    async def check(self, site_key: str, visitor_ip: str | None) -> None:
        """Count one submission; raise RateLimited, with the wait, when over a limit."""
        checks: list[tuple[RateLimitItem, tuple[str, ...]]]
        checks = [(item, ("site", site_key)) for item in self.per_site]
        if visitor_ip:
            checks += [(item, ("visitor", site_key, visitor_ip)) for item in self.per_visitor]
        await self.counters.check(checks, "Too many submissions; try again later.")

    async def check_event(self, site_key: str, visitor_ip: str | None) -> None:
        """Count one form view or start of one visitor."""
        if not visitor_ip:
            return
        checks: list[tuple[RateLimitItem, tuple[str, ...]]] = [
            (item, ("event", site_key, visitor_ip)) for item in self.events_per_visitor
        ]
        await self.counters.check(checks, "Too many form events; try again later.")

    async def use_form_token(self, token: str) -> bool:
        """Count one submission made with ``token``; False once it has made its share."""
        if self.per_token is None:
            return True
        if self.shared_token_uses is None:
            return self.local_token_uses.use(token_key(token))
        try:
            await self.shared_token_uses.check(
                [(self.per_token, ("form-token", token_key(token)))], "form token used up"
            )
        except RateLimited:
            return False
        return True


class UseWindows:
    """Uses of each key in a fixed window its first use opens, counted in this process's memory.

    What a form token's use count needs, on every submission, for a fraction of the `limits`
    library's in-memory strategy (a test, then a hit, each through its storage's locks and
    coroutines). Every window is as long as every other, so windows end in the order they
    opened: ended ones are forgotten from the oldest on, and memory holds live windows only.
    """

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        # key -> [when its window ends, uses in it], oldest window first.
        self._windows: OrderedDict[str, list[float]] = OrderedDict()

    def use(self, key: str) -> bool:
        """Count one use of ``key``; False, counting nothing, once its window holds ``limit``."""
        now = self._clock()
        windows = self._windows
        while windows:
            oldest = next(iter(windows))
            if windows[oldest][0] > now:
                break
            del windows[oldest]
        window = windows.get(key)
        if window is None:
            windows[key] = [now + self.window_seconds, 1]
            return True
        if window[1] >= self.limit:
            return False
        window[1] += 1
        return True

    def __len__(self) -> int:
        return len(self._windows)
