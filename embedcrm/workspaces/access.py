"""Who may do what in a workspace: OWNER everything, MANAGER what is theirs, VIEWER reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import PanelUser, Principal
from embedcrm.errors import Forbidden, NotFound
from embedcrm.workspaces.models import Member, Role
from embedcrm.workspaces.repository import MemberRepository, WorkspaceDirectory


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

    def require_owner(self) -> None:
        if not self.is_owner:
            raise Forbidden("Only an owner can change this.")

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
