"""GraphQL query and mutation of the 1C exchange."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.exchange import mutations
from embedcrm.graphql.exchange.types import OneCExchange
from embedcrm.graphql.permissions import OwnerOnly
from embedcrm.graphql.support import workspace_arg


@strawberry.type
class ExchangeQuery:
    @strawberry.field(description="The 1C exchange; null until an owner sets it up.")
    async def one_c_exchange(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> OneCExchange | None:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        service = ctx.services.one_c
        row = await service.settings_of(ctx.principal, workspace)
        return OneCExchange.of(row, service.exchange_url(workspace)) if row else None


@strawberry.type
class ExchangeMutation:
    set_one_c_exchange = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.set_one_c_exchange.resolve,
        description="The login and password the workspace's 1C exchanges with (owner only).",
    )
