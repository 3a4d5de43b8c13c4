"""GraphQL queries and mutations of importing leads from a CSV export."""

from __future__ import annotations

from typing import Any

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.imports.inputs import (
    ImportCsvInput,
    ImportCsvPayload,
    ImportPreviewPayload,
    PreviewCsvImportInput,
    decode_content,
)
from embedcrm.graphql.imports.types import ColumnMapping, ImportPreview, ImportReport
from embedcrm.graphql.support import as_payload, errors_payload, workspace_arg
from embedcrm.imports.service import TARGETS


@strawberry.type
class ImportMutation:
    @strawberry.mutation(
        description="Encoding, delimiter, headers and the suggested column mapping."
    )
    async def preview_csv_import(
        self, info: Info, input: PreviewCsvImportInput
    ) -> ImportPreviewPayload:
        ctx = info.context

        async def call() -> ImportPreview:
            decoded, mapping = ctx.services.imports.preview(decode_content(input.content_base64))
            return ImportPreview(
                encoding=decoded.encoding,
                delimiter=decoded.delimiter,
                headers=decoded.headers,
                mapping=[ColumnMapping(column=c, field=f) for c, f in mapping.items()],
                row_count=len(decoded.rows),
                sample=decoded.rows[:5],
                targets=["skip", *TARGETS],
            )

        return await as_payload(
            call, lambda p: ImportPreviewPayload(preview=p), errors_payload(ImportPreviewPayload)
        )

    @strawberry.mutation(
        description="Import contacts or leads; a dry run (the default) writes nothing."
    )
    async def import_csv(self, info: Info, input: ImportCsvInput) -> ImportCsvPayload:
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
