"""The import_products mutation: products from a CSV file, matched by SKU, all or nothing."""

from __future__ import annotations

from embedcrm.graphql.catalog.inputs import ImportProductsInput, ImportProductsPayload
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in, workspace_arg


@user_errors_in(ImportProductsPayload)
async def resolve(info: Info, input: ImportProductsInput) -> ImportProductsPayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    result = await ctx.services.catalog.import_csv(ctx.principal, workspace, input.csv)
    return ImportProductsPayload(created=result.created, updated=result.updated)
