"""GraphQL inputs and payloads of importing leads from a CSV export."""

from __future__ import annotations

import base64
import binascii

import strawberry

from embedcrm.errors import ValidationFailed
from embedcrm.fields.models import FieldEntity as FieldEntityEnum
from embedcrm.graphql.core import UserError
from embedcrm.graphql.fields.types import FieldEntity
from embedcrm.graphql.imports.types import ImportPreview, ImportReport


@strawberry.type
class ImportPreviewPayload:
    preview: ImportPreview | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImportCsvPayload:
    report: ImportReport | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ColumnMappingInput:
    column: str
    field: str = strawberry.field(description="A target field, or `skip`.")


@strawberry.input
class PreviewCsvImportInput:
    content_base64: str = strawberry.field(description="The file's bytes, in any encoding.")


@strawberry.input
class ImportCsvInput:
    content_base64: str
    entity: FieldEntity = FieldEntityEnum.LEAD  # type: ignore[valid-type]
    mapping: list[ColumnMappingInput] | None = strawberry.field(
        default=None, description="Omit for the suggested mapping."
    )
    dry_run: bool = True
    skip_invalid_rows: bool = False
    workspace_id: strawberry.ID | None = None


def decode_content(raw: str) -> bytes:
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("contentBase64 is not base64.", field="contentBase64") from exc
