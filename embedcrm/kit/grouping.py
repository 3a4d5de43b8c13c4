"""Rows read for many keys at once, handed back per key."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def grouped(keys: Iterable[K], rows: Iterable[V], key: Callable[[V], K]) -> dict[K, list[V]]:
    """``rows`` by ``key``, every one of ``keys`` present (with no rows, an empty list): a batch
    loader answers each key it was asked for, and a key without rows is an answer too."""
    out: dict[K, list[V]] = {k: [] for k in keys}
    for row in rows:
        out[key(row)].append(row)
    return out


def grouped_pairs(keys: Iterable[K], pairs: Iterable[tuple[K, V]]) -> dict[K, list[V]]:
    """``grouped`` for rows read as (key, value) pairs."""
    out: dict[K, list[V]] = {k: [] for k in keys}
    for owner, value in pairs:
        out[owner].append(value)
    return out
