"""The typed context of one GraphQL request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from strawberry.types import Info as StrawberryInfo

from embedcrm.auth import PanelUser, Principal
from embedcrm.config import Settings
from embedcrm.errors import NotFound
from embedcrm.graphql.loaders import Loaders
from embedcrm.services import Services
from embedcrm.workspaces.access import Actor


@dataclass
class Context:
    settings: Settings
    services: Services
    principal: Principal
    loaders: Loaders
    # The id of the HTTP request (x-request-id), so that its one log line can be found.
    request_id: str = ""
    _actor: Actor | None = field(default=None, init=False, repr=False)

    async def actor(self) -> Actor:
        """The caller as one Actor, loaded once per request (graphql/permissions.py)."""
        if self._actor is None:
            self._actor = await self.services.workspaces.actor(self.principal)
        return self._actor

    def workspace_for(self, requested: uuid.UUID | None) -> uuid.UUID:
        """The workspace a read is about: a panel user's own, or the one the platform names."""
        if isinstance(self.principal, PanelUser):
            if requested is not None and requested != self.principal.workspace_id:
                raise NotFound("No such workspace.", field="workspaceId")
            return self.principal.workspace_id
        if requested is None:
            raise NotFound("A platform key must name the workspace.", field="workspaceId")
        return requested

    def can_see(self, workspace_id: uuid.UUID) -> bool:
        return self.principal.can_read(workspace_id)


Info = StrawberryInfo[Context, None]
