"""The import_csv mutation: import contacts or leads; a dry run (the default) writes nothing."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.context import Info
from embedcrm.graphql.imports.inputs import ImportCsvInput, ImportCsvPayload, decode_content
from embedcrm.graphql.imports.types import ImportReport
from embedcrm.graphql.support import as_payload, errors_payload, workspace_arg


async def resolve(info: Info, input: ImportCsvInput) -> ImportCsvPayload:
    ctx = info.context

    async def call() -> Any:
        workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
        mapping = None if input.mapping is None else {m.column: m.field for m in input.mapping}
        return await ctx.services.imports.run(
            ctx.principal,
            workspace,
            decode_content(input.content_base64),
            entity=input.entity,
            mapping=mapping,
            dry_run=input.dry_run,
            skip_invalid_rows=input.skip_invalid_rows,
        )

    return await as_payload(
        call,
        lambda r: ImportCsvPayload(report=ImportReport.of(r)),
        errors_payload(ImportCsvPayload),
    )
