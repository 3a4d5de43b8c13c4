"""The set_one_c_exchange mutation: the login and password 1C exchanges with (owner only)."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.exchange.inputs import OneCExchangePayload, SetOneCExchangeInput
from embedcrm.graphql.exchange.types import OneCExchange
from embedcrm.graphql.support import user_errors_in, workspace_arg


@user_errors_in(OneCExchangePayload)
async def resolve(info: Info, input: SetOneCExchangeInput) -> OneCExchangePayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    service = ctx.services.one_c
    row = await service.configure(
        ctx.principal, workspace, login=input.login, password=input.password
    )
    return OneCExchangePayload(exchange=OneCExchange.of(row, service.exchange_url(workspace)))
