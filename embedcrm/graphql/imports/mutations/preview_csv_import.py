"""The preview_csv_import mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.imports.inputs import (
    ImportPreviewPayload,
    PreviewCsvImportInput,
    decode_content,
)
from embedcrm.graphql.imports.types import ColumnMapping, ImportPreview
from embedcrm.graphql.support import user_errors_in
from embedcrm.imports.service import TARGETS


@user_errors_in(ImportPreviewPayload)
async def resolve(info: Info, input: PreviewCsvImportInput) -> ImportPreviewPayload:
    ctx = info.context
    decoded, mapping = ctx.services.imports.preview(decode_content(input.content_base64))
    return ImportPreviewPayload(
        preview=ImportPreview(
            encoding=decoded.encoding,
            delimiter=decoded.delimiter,
            headers=decoded.headers,
            mapping=[ColumnMapping(column=c, field=f) for c, f in mapping.items()],
            row_count=len(decoded.rows),
            sample=decoded.rows[:5],
            targets=["skip", *TARGETS],
        )
    )
