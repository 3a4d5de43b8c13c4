"""A per-process cache of lookups that expire, where concurrent misses of a key share one load.

Every public submission needs its site and the site's forms. A workspace whose site is not in
the cache (a small one, sent a form now and then) gets its burst of requests all missing at
once: without sharing, each ran the same queries in a transaction of its own, and 50 in flight
held more connections than the pool keeps, each opened and closed for one lookup.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    """Values kept ``seconds`` after their load began; ``forget`` drops one at once."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._values: dict[Hashable, tuple[float, V]] = {}
        self._loading: dict[Hashable, asyncio.Future[V]] = {}
        # Bumped by every forget: a load that began before one is used but not kept, so a
        # change made meanwhile is never hidden by what was read before it.
        self._generation = 0

    async def get(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        known = self._values.get(key)
        if known is not None and self._clock() - known[0] < self.seconds:
            return known[1]
        pending = self._loading.get(key)
        if pending is not None:
            # Shielded: one waiter cancelled (its client went away) cancels nobody else's.
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this waiter itself was cancelled
                return await self.get(key, load)  # the loader was: load anew
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        began, generation = self._clock(), self._generation
        try:
            value = await load()
        except Exception as exc:
            # Failures are not kept: the waiters see this one, the next request tries again.
            future.set_exception(exc)
            future.exception()  # retrieved, so that no waiter is no warning
            raise
        except BaseException:
            future.cancel()  # the loader's request was cancelled: its waiters retry
            raise
        finally:
            if self._loading.get(key) is future:
                del self._loading[key]
        if generation == self._generation:
            self._values[key] = (began, value)
        future.set_result(value)
        return value

    def forget(self, key: Hashable) -> None:
        self._generation += 1
        self._values.pop(key, None)
        # Requests from now on load anew; those already waiting get the load they joined.
        self._loading.pop(key, None)
