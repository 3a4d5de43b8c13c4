"""The set_payment_provider mutation: a workspace's account with Robokassa or YooKassa."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.invoices.inputs import PaymentProviderPayload, SetPaymentProviderInput
from embedcrm.graphql.invoices.types import PaymentProviderAccount
from embedcrm.graphql.support import user_errors_in, workspace_arg


@user_errors_in(PaymentProviderPayload)
async def resolve(info: Info, input: SetPaymentProviderInput) -> PaymentProviderPayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    row = await ctx.services.providers.configure(
        ctx.principal, workspace, input.provider, account=input.account, secret=input.secret
    )
    return PaymentProviderPayload(
        provider=PaymentProviderAccount.of(row, ctx.services.settings.public_url)
    )
