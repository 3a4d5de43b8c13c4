"""The preview_csv_import mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.imports.inputs import (
    ImportPreviewPayload,
    PreviewCsvImportInput,
    decode_content,
)
from embedcrm.graphql.imports.types import ColumnMapping, ImportPreview
from embedcrm.graphql.support import as_payload, errors_payload
from embedcrm.imports.service import TARGETS


async def resolve(info: Info, input: PreviewCsvImportInput) -> ImportPreviewPayload:
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
