"""How ``node(id:)`` finds an object: each domain's GraphQL package registers a loader for every
Node type it defines, next to the type, so a domain adds its types without touching a central
list, and a test walks the schema for a Node type nobody registered.

A loader answers the object as the caller's list of it would show it, or None: a MANAGER's
``node(id:)`` never reads what their list leaves out. Another workspace's id never reaches a
loader (``node`` answers null first), and NotFound or Forbidden from a service means null too.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from embedcrm.auth import Principal
from embedcrm.errors import Forbidden, NotFound
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Node
from embedcrm.graphql.ids import GlobalId
from embedcrm.services import Services

NodeLoader = Callable[[Info, GlobalId], Awaitable[Node | None]]
LoaderT = TypeVar("LoaderT", bound=NodeLoader)
# The row an id names as the caller's list would show it, or None.
RowFetch = Callable[[Info, GlobalId], Awaitable[Any]]
FetchT = TypeVar("FetchT", bound=RowFetch)

_LOADERS: dict[str, NodeLoader] = {}


def register(type_name: str, loader: NodeLoader) -> None:
    if type_name in _LOADERS and _LOADERS[type_name] is not loader:
        raise RuntimeError(f"Two loaders for the Node type {type_name}.")
    _LOADERS[type_name] = loader


def loads(type_name: str) -> Callable[[LoaderT], LoaderT]:
    """Register the decorated function as the loader of ``type_name``."""

    def decorate(loader: LoaderT) -> LoaderT:
        register(type_name, loader)
        return loader

    return decorate


def loads_row(type_name: str, wrap: Callable[[Any], Node]) -> Callable[[FetchT], FetchT]:
    """Register the decorated fetch, with ``wrap`` turning its row into the GraphQL type, as
    the loader of ``type_name``."""

    def decorate(fetch: FetchT) -> FetchT:
        async def loader(info: Info, gid: GlobalId) -> Node | None:
            row = await fetch(info, gid)
            return None if row is None else wrap(row)

        register(type_name, loader)
        return fetch

    return decorate


# A service's one-row read by (principal, workspace, id), as its list would show the row.
VisibleRow = Callable[[Principal, uuid.UUID, uuid.UUID], Awaitable[Any]]


def loads_visible(
    type_name: str, wrap: Callable[[Any], Node], read: Callable[[Services], VisibleRow]
) -> None:
    """Register, as the loader of ``type_name``, the service read ``read`` picks."""

    async def fetch(info: Info, gid: GlobalId) -> Any:
        context = info.context
        return await read(context.services)(context.principal, gid.workspace_id, gid.row_id)

    loads_row(type_name, wrap)(fetch)


def registered() -> frozenset[str]:
    return frozenset(_LOADERS)


async def load_node(info: Info, gid: GlobalId) -> Node | None:
    loader = _LOADERS.get(gid.type_name)
    if loader is None:
        return None
    try:
        return await loader(info, gid)
    except (NotFound, Forbidden):
        return None
