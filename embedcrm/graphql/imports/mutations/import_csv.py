"""The import_csv mutation: import contacts or leads; a dry run (the default) writes nothing."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.imports.inputs import ImportCsvInput, ImportCsvPayload, decode_content
from embedcrm.graphql.imports.types import ImportReport
from embedcrm.graphql.support import user_errors_in, workspace_arg


@user_errors_in(ImportCsvPayload)
async def resolve(info: Info, input: ImportCsvInput) -> ImportCsvPayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    mapping = None if input.mapping is None else {m.column: m.field for m in input.mapping}
    return ImportCsvPayload(
        report=ImportReport.of(
            await ctx.services.imports.run(
                ctx.principal,
                workspace,
                decode_content(input.content_base64),
                entity=input.entity,
                mapping=mapping,
                dry_run=input.dry_run,
                skip_invalid_rows=input.skip_invalid_rows,
            )
        )
    )
