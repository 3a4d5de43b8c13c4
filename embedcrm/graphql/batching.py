"""Batched loads by (workspace, id): what every domain's DataLoaders are built on."""

from __future__ import annotations

import inspect
import uuid
from collections import defaultdict
from collections.abc import (
    Awaitable,
    Callable,
    Generator,
    Hashable,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader
from strawberry.types.nodes import SelectedField, Selection

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)
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


def nullable(convert: Callable[[T], R]) -> Callable[[T | None], R | None]:
    """``convert`` for a value a loader may not find."""
    return lambda value: None if value is None else convert(value)


def ready_or_load(loader: DataLoader[K, T], key: K, convert: Callable[[T], R]) -> R | Awaitable[R]:
    """``convert`` of the value this request has already loaded for ``key``, at once; else of
    its load, awaited.

    A field whose value is at hand needs no await: graphql-core completes a list of such
    fields in place, while an awaiting field costs it a task per item of the list. A page
    that loads its rows' relations up front (``load_ahead``) makes its fields the first kind.
    """
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled():
        if future.exception() is None:
            return convert(future.result())
    return _Converted(loader.load(key), convert)


class _Converted(Awaitable[R]):
    """``convert`` of a load, once awaited. Not a coroutine: graphql-core may drop a field's
    awaitable unawaited (its request was cancelled because the client hung up), and a dropped
    coroutine warns where this object is simply collected."""

    __slots__ = ("_convert", "_loading")

    def __init__(self, loading: Awaitable[T], convert: Callable[[T], R]) -> None:
        self._loading = loading
        self._convert = convert

    def __await__(self) -> Generator[Any, None, R]:
        return self._convert((yield from self._loading.__await__()))


def related(
    converted: dict[Any, Any],
    loader: DataLoader[K, T | None],
    key: K,
    convert: Callable[[T], R],
) -> R | Awaitable[R | None] | None:
    """``ready_or_load`` of the row ``key`` names (None when there is none), converted once per
    request and the one object shared by every row naming it: a page of 50 leads names a few
    stages and assignees, each otherwise converted again for every lead. ``converted`` is the
    request's (``Loaders.converted``)."""
    memo = (convert, key)
    if memo in converted:
        return cast("R | None", converted[memo])
    value = ready_or_load(loader, key, nullable(convert))
    if not inspect.isawaitable(value):
        converted[memo] = value
    return value


async def load_ahead(loads: Iterable[tuple[DataLoader[Any, Any], Iterable[Any]]]) -> None:
    """Load each loader's keys now, one call of its batch function each, and keep the values
    in its cache: later loads of those keys, and ``ready_or_load``, find them there. Calling
    the batch function once, rather than ``load_many``, spares a future and a callback per key.
    """
    for loader, keys in loads:
        wanted = [key for key in dict.fromkeys(keys) if loader.cache_map.get(key) is None]
        if wanted:
            loader.prime_many(dict(zip(wanted, await loader.load_fn(wanted), strict=True)))


def selected_under(selected: Iterable[Selection], *path: str) -> set[str]:
    """The names of the fields selected at ``path`` below ``selected`` (strawberry's
    ``info.selected_fields``), through fragments and aliases."""
    return {field.name for field in selected_at(selected, *path)}


def selected_at(selected: Iterable[Selection], *path: str) -> list[SelectedField]:
    """The fields selected at ``path`` below ``selected``, with their arguments: one entry per
    alias or fragment that selects a field."""
    level: list[SelectedField] = list(_fields(selected))
    for name in path:
        level = [
            child for field in level for child in _fields(field.selections) if child.name == name
        ]
    return [child for field in level for child in _fields(field.selections)]


def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:  # an inline fragment or a fragment spread
            yield from _fields(selection.selections)
