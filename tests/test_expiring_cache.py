"""The per-process cache of site and form lookups (embedcrm/kit/cache.py)."""

from __future__ import annotations

import asyncio

import pytest

from embedcrm.errors import NotFound
from embedcrm.kit.cache import ExpiringCache


async def test_a_burst_of_misses_loads_once_and_a_failure_is_not_kept() -> None:
    now = [0.0]
    cache: ExpiringCache[str] = ExpiringCache(30, clock=lambda: now[0])
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return f"site v{loads}"

    assert await asyncio.gather(*(cache.get("k", load) for _ in range(50))) == ["site v1"] * 50
    assert loads == 1
    now[0] = 29.9
    assert await cache.get("k", load) == "site v1"
    now[0] = 30.0  # expired: loaded again
    assert await cache.get("k", load) == "site v2"

    async def missing() -> str:
        await asyncio.sleep(0.01)
        raise NotFound("No site has this key.")

    results = await asyncio.gather(
        *(cache.get("gone", missing) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, NotFound) for r in results)
    assert await cache.get("gone", load) == "site v3"  # the failure was not remembered


async def test_a_change_during_a_load_is_not_hidden_by_what_the_load_read() -> None:
    cache: ExpiringCache[str] = ExpiringCache(30)
    release = asyncio.Event()

    async def slow_old() -> str:
        await release.wait()
        return "before the change"

    async def fresh() -> str:
        return "after the change"

    reading = asyncio.create_task(cache.get("k", slow_old))
    await asyncio.sleep(0)
    cache.forget("k")  # the site was changed (or deleted) while the lookup ran
    release.set()
    assert await reading == "before the change"
    assert await cache.get("k", fresh) == "after the change"


async def test_a_cancelled_waiter_does_not_cancel_the_others() -> None:
    cache: ExpiringCache[str] = ExpiringCache(30)
    release = asyncio.Event()

    async def load() -> str:
        await release.wait()
        return "site"

    first = asyncio.create_task(cache.get("k", load))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get("k", load))
    await asyncio.sleep(0)
    second.cancel()
    release.set()
    assert await first == "site"
    with pytest.raises(asyncio.CancelledError):
        await second
