"""The set_requisites mutation: the shop's legal and bank details (owner only)."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.invoices.inputs import RequisitesPayload, SetRequisitesInput
from embedcrm.graphql.invoices.types import Requisites
from embedcrm.graphql.support import user_errors_in, workspace_arg
from embedcrm.invoices.service import RequisitesSpec


@user_errors_in(RequisitesPayload)
async def resolve(info: Info, input: SetRequisitesInput) -> RequisitesPayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    spec = RequisitesSpec(
        legal_name=input.legal_name,
        inn=input.inn,
        kpp=input.kpp,
        ogrn=input.ogrn,
        address=input.address,
        bank_name=input.bank_name,
        bik=input.bik,
        bank_account=input.bank_account,
        correspondent_account=input.correspondent_account,
    )
    row = await ctx.services.invoices.set_requisites(ctx.principal, workspace, spec)
    return RequisitesPayload(requisites=Requisites.of(row))
