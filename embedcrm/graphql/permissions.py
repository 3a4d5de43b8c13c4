"""Who may call a field, by role: strawberry permission classes over the caller's one Actor.

Every field that only some roles may call declares it, ``permission_classes=[OwnerOnly]``,
``[WritersOnly]`` or, for what only the host's backend does, ``[PlatformOnly]``; resolvers and services hold no role checks of their own. Which rows a caller
then reads or changes is not decided here but by the repository's readable statement
(``WorkspaceRepository.readable``), and whether a MANAGER may change one row (assigned to them
or not) by ``Actor.require_assigned`` in the service that has the row.

A refusal answers as the field always has: a mutation's payload carries it in ``userErrors``
(code ``forbidden``); a query answers with the error itself.
"""

from __future__ import annotations

import dataclasses
from contextvars import ContextVar
from typing import Any, ClassVar

from strawberry.permission import BasePermission

from embedcrm.auth import Platform
from embedcrm.errors import Forbidden
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors
from embedcrm.workspaces.models import Role

# The refusal has_permission decided, read back by on_unauthorized, which strawberry calls
# right after it with nothing but the permission: (the error, the field's return type).
_refusal: ContextVar[tuple[Forbidden, Any]] = ContextVar("refusal")


class Refusing(BasePermission):
    """Answers a refusal as the field answers its errors (``refuse`` records it)."""

    @staticmethod
    def refuse(info: Info, error: Forbidden) -> bool:
        _refusal.set((error, info.return_type))
        return False

    def on_unauthorized(self) -> Any:
        error, returns = _refusal.get()
        if _has_user_errors(returns):
            return returns(user_errors=user_errors(error))
        raise error


class RolePermission(Refusing):
    """The caller's role is one of ``roles``; the platform acts as an OWNER everywhere."""

    roles: ClassVar[frozenset[Role]]

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        actor = await info.context.actor()
        if actor.role in self.roles:
            return True
        return self.refuse(info, self.refusal(actor.role))

    def refusal(self, role: Role) -> Forbidden:
        raise NotImplementedError


def _has_user_errors(returns: Any) -> bool:
    return dataclasses.is_dataclass(returns) and any(
        f.name == "user_errors" for f in dataclasses.fields(returns)
    )


class OwnerOnly(RolePermission):
    """Settings, pipelines, fields, imports, personal data, ad spend: the owner's."""

    roles = frozenset({Role.OWNER})

    def refusal(self, role: Role) -> Forbidden:
        return Forbidden("Only an owner can change this.")


class WritersOnly(RolePermission):
    """Working leads, contacts and tasks: an owner or a manager; a viewer only reads."""

    roles = frozenset({Role.OWNER, Role.MANAGER})

    def refusal(self, role: Role) -> Forbidden:
        return Forbidden("A viewer can only read.")


class PlatformOnly(Refusing):
    """What only the host's backend does (changing sites, revoking one panel token); an OWNER
    is refused like anyone else."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if isinstance(info.context.principal, Platform):
            return True
        return self.refuse(info, Forbidden("Only the platform can do this."))
