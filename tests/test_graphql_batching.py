"""A page's rows that name the same related row (a stage, an assignee) share one GraphQL object
of it, made once per request from the DataLoader's value."""

from __future__ import annotations

import gc
import inspect
import uuid
import warnings
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from embedcrm.graphql.batching import Key, ready_or_load, related

WORKSPACE = uuid.uuid4()
STAGE, GONE, LATER = ((WORKSPACE, uuid.uuid4()) for _ in range(3))


async def _load(keys: list[Key]) -> Sequence[str | None]:
    return [f"row {key[1]}" if key != GONE else None for key in keys]


async def test_a_loaded_row_is_converted_once_and_shared() -> None:
    loader: DataLoader[Key, str | None] = DataLoader(load_fn=_load)
    loader.prime_many({STAGE: "stage row", GONE: None})
    made: list[str] = []

    def convert(row: str) -> dict[str, str]:
        made.append(row)
        return {"name": row}

    converted: dict[object, object] = {}
    first = related(converted, loader, STAGE, convert)
    assert first == {"name": "stage row"}
    assert related(converted, loader, STAGE, convert) is first
    assert made == ["stage row"]
    # A row the loader did not find is None, and nothing is converted.
    assert related(converted, loader, GONE, convert) is None
    assert made == ["stage row"]
    # A row not loaded yet is awaited through the loader, converted each time it is asked.
    pending = related(converted, loader, LATER, convert)
    assert inspect.isawaitable(pending)
    assert await pending == {"name": f"row {LATER[1]}"}


async def test_a_pending_load_dropped_unawaited_leaves_no_warning() -> None:
    """graphql-core drops a field's awaitable when its request is cancelled (the client hung
    up); what ``ready_or_load`` returned must then go quietly, where a dropped coroutine would
    warn "never awaited" (an error under this suite's warning filter)."""
    loader: DataLoader[Key, str | None] = DataLoader(load_fn=_load)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pending = ready_or_load(loader, LATER, str.upper)
        assert inspect.isawaitable(pending)
        del pending
        gc.collect()
    assert [str(warning.message) for warning in caught] == []
    # Awaited, the same kind of value gives the converted load.
    assert await ready_or_load(loader, LATER, str.upper) == f"row {LATER[1]}".upper()
