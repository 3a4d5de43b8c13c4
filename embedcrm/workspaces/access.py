"""Who may do what in a workspace: OWNER everything, MANAGER what is theirs, VIEWER reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import PanelUser, Principal
from embedcrm.db import Database
from embedcrm.errors import Forbidden, NotFound
from embedcrm.kit.repository import NOWHERE, WorkspaceOwned, WorkspaceRepository
from embedcrm.workspaces.models import Member, Role
from embedcrm.workspaces.repository import MemberRepository, WorkspaceDirectory

M = TypeVar("M", bound=WorkspaceOwned)


@dataclass(frozen=True)
class Actor:
    """The caller inside one workspace. ``member_id`` is None for the host platform."""

    workspace_id: uuid.UUID
    member_id: uuid.UUID | None
    role: Role
    managers_edit_all: bool = False

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    def require_writer(self) -> None:
        if self.role is Role.VIEWER:
            raise Forbidden("A viewer can only read.")

    @property
    def sees_only_own(self) -> uuid.UUID | None:
        """The member whose leads alone this actor sees (with the unassigned ones), or None
        when it sees them all: a MANAGER, unless the workspace lets managers work everything."""
        if self.role is Role.MANAGER and not self.managers_edit_all:
            return self.member_id
        return None

    def require_assigned(self, assignee_id: uuid.UUID | None, what: str) -> None:
        """A manager changes what is assigned to them, unless the workspace lets them do more."""
        self.require_writer()
        if self.is_owner or self.managers_edit_all:
            return
        if assignee_id is None:
            if what == "lead":
                raise Forbidden(
                    "This lead is not assigned to anyone yet: take it first "
                    "(assign it to yourself), then work it."
                )
            raise Forbidden(f"This {what} is not assigned to anyone; an owner can assign it.")
        if assignee_id != self.member_id:
            raise Forbidden(f"This {what} is assigned to someone else.")

    def may_take(self, assignee_id: uuid.UUID | None, new_assignee_id: uuid.UUID | None) -> bool:
        """A manager may take an unassigned lead: assign it to themselves."""
        return (
            self.role is Role.MANAGER
            and assignee_id is None
            and new_assignee_id is not None
            and new_assignee_id == self.member_id
        )


async def load_actor(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, *, field: str = "id"
) -> Actor:
    """The actor for ``workspace_id``; another workspace looks exactly like a missing object."""
    if not principal.can_read(workspace_id):
        raise NotFound("Nothing has this id.", field=field)
    if isinstance(principal, PanelUser):
        role, member_id = principal.role, principal.member_id
    else:
        role, member_id = Role.OWNER, None
    workspace = await WorkspaceDirectory(session).get(workspace_id)
    if workspace is None:
        raise NotFound("Nothing has this id.", field=field)
    return Actor(
        workspace_id=workspace_id,
        member_id=member_id,
        role=role,
        managers_edit_all=workspace.managers_edit_all,
    )


async def viewer_of(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, *, field: str = "id"
) -> Actor:
    """The actor a read is scoped by (``WorkspaceRepository.readable``). Only a MANAGER's
    reads depend on the workspace's setting, so only theirs cost a query."""
    if isinstance(principal, PanelUser) and principal.role is Role.MANAGER:
        return await load_actor(session, principal, workspace_id, field=field)
    reader_workspace(principal, workspace_id, field=field)
    if isinstance(principal, PanelUser):
        return Actor(workspace_id, principal.member_id, principal.role)
    return Actor(workspace_id, None, Role.OWNER)


async def actor_of(session: AsyncSession, principal: Principal) -> Actor:
    """The caller as one actor, before any workspace is named: a panel member in their own
    workspace; the platform as an OWNER, of every workspace (so of none in particular)."""
    if isinstance(principal, PanelUser):
        return await load_actor(session, principal, principal.workspace_id)
    return Actor(workspace_id=NOWHERE, member_id=None, role=Role.OWNER)


async def readable_row(
    db: Database,
    principal: Principal,
    repository: type[WorkspaceRepository[M]],
    workspace_id: uuid.UUID,
    row_id: uuid.UUID,
) -> M | None:
    """One row by its id, if ``principal`` may read it; None otherwise, as for a missing one
    (node(id:) answers null for both)."""
    async with db.transaction() as session:
        viewer = await viewer_of(session, principal, workspace_id)
        return await repository(session, workspace_id).get_readable(viewer, row_id)


def reader_workspace(principal: Principal, workspace_id: uuid.UUID, *, field: str = "id") -> None:
    """Reads need no role beyond belonging to the workspace."""
    if not principal.can_read(workspace_id):
        raise NotFound("Nothing has this id.", field=field)


async def get_member(
    session: AsyncSession, workspace_id: uuid.UUID, member_id: uuid.UUID, field: str
) -> Member:
    member = await MemberRepository(session, workspace_id).get(member_id)
    if member is None:
        raise NotFound("Nothing has this id.", field=field)
    return member
