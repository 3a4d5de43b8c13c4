"""`embedcrm import-csv`: the CSV import of a workspace from a terminal, with a progress bar."""

from __future__ import annotations

import argparse
import uuid

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from embedcrm.auth import Platform
from embedcrm.config import Settings
from embedcrm.errors import EmbedCRMError
from embedcrm.fields.models import FieldEntity
from embedcrm.imports.service import ImportReport
from embedcrm.services import Services


async def import_csv(settings: Settings, args: argparse.Namespace, raw: bytes) -> int:
    """Dry run unless ``--commit``; exit code 1 when rows were refused and nothing was written."""
    console = Console(stderr=True)
    services = Services.create(settings)
    try:
        workspace_id = await _workspace(services, args.workspace)
        decoded, suggested = services.imports.preview(raw)
        mapping = dict(suggested)
        for pair in args.map:
            column, _, target = pair.partition("=")
            mapping[column] = target
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("writing" if args.commit else "checking", total=len(decoded.rows))

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = await services.imports.run(
                Platform(key_id=uuid.uuid4()),
                workspace_id,
                raw,
                entity=FieldEntity.LEAD if args.entity == "leads" else FieldEntity.CONTACT,
                mapping=mapping,
                dry_run=not args.commit,
                skip_invalid_rows=args.skip_invalid,
                progress=advance,
            )
    except EmbedCRMError as exc:
        console.print(f"[red]{exc.message}[/red]")
        return 2
    finally:
        await services.capture.close()
        await services.db.dispose()
    _print(console, report)
    return 1 if report.errors and not (report.imported or args.skip_invalid) else 0


async def _workspace(services: Services, given: str) -> uuid.UUID:
    try:
        return uuid.UUID(given)
    except ValueError:
        pass
    found = await services.workspaces.workspace_by_external_id(given)
    if found is None:
        raise EmbedCRMError(f"No workspace has the externalId {given!r}.")
    return found.id


def _print(console: Console, report: ImportReport) -> None:
    console.print(
        f"{report.total_rows} rows, {report.encoding}, delimiter {report.delimiter!r}; "
        f"{report.valid_rows} valid"
    )
    mapping = Table("column", "field", title="mapping")
    for column, target in report.mapping.items():
        mapping.add_row(column, target)
    console.print(mapping)
    if report.errors:
        errors = Table("row", "column", "problem", title="rows refused")
        for error in report.errors:
            errors.add_row(str(error.row), error.column or "", error.message)
        console.print(errors)
    verb = "imported" if report.imported else "would import (dry run)"
    console.print(
        f"{verb}: {report.leads_created} leads new, {report.leads_existing} already there; "
        f"{report.contacts_created} contacts new, {report.contacts_matched} matched"
    )
