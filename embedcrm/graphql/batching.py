"""Batched loads by (workspace, id): what every domain's DataLoaders are built on."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")
Key = tuple[uuid.UUID, uuid.UUID]  # (workspace_id, row id)


def batched(
    fetch: Callable[[uuid.UUID, list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, T]]],
) -> Callable[[list[Key]], Awaitable[Sequence[T | None]]]:
    """A DataLoader's load function over ``fetch``: one call per workspace among the keys."""

    async def load(keys: list[Key]) -> Sequence[T | None]:
        by_workspace: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for workspace_id, row_id in keys:
            by_workspace[workspace_id].append(row_id)
        found: dict[Key, T] = {}
        for workspace_id, ids in by_workspace.items():
            for row_id, row in (await fetch(workspace_id, ids)).items():
                found[(workspace_id, row_id)] = row
        return [found.get(key) for key in keys]

    return load
