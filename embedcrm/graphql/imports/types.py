"""GraphQL types of importing leads from a CSV export."""

from __future__ import annotations

import strawberry

from embedcrm.imports.service import ImportReport as ImportReportRow


@strawberry.type
class RowError:
    row: int = strawberry.field(description="The data row, counting from 1 after the header.")
    column: str | None
    message: str


@strawberry.type
class ColumnMapping:
    column: str
    field: str


@strawberry.type(description="What an import did, or would do on a dry run.")
class ImportReport:
    encoding: str
    delimiter: str
    mapping: list[ColumnMapping]
    total_rows: int
    valid_rows: int
    errors: list[RowError]
    contacts_created: int
    contacts_matched: int
    leads_created: int
    leads_existing: int
    stages_created: list[str]
    dry_run: bool
    imported: bool

    @classmethod
    def of(cls, report: ImportReportRow) -> ImportReport:
        return cls(
            encoding=report.encoding,
            delimiter=report.delimiter,
            mapping=[ColumnMapping(column=c, field=f) for c, f in report.mapping.items()],
            total_rows=report.total_rows,
            valid_rows=report.valid_rows,
            errors=[RowError(row=e.row, column=e.column, message=e.message) for e in report.errors],
            contacts_created=report.contacts_created,
            contacts_matched=report.contacts_matched,
            leads_created=report.leads_created,
            leads_existing=report.leads_existing,
            stages_created=report.stages_created,
            dry_run=report.dry_run,
            imported=report.imported,
        )


@strawberry.type
class ImportPreview:
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: list[ColumnMapping]
    row_count: int
    sample: list[list[str]]
    targets: list[str]
