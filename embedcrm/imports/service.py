"""CSV import of contacts and leads: detected encoding and delimiter, a suggested mapping,
a dry run that lists row errors, progress, and all-or-nothing writes.

Imported leads emit no webhooks: they are history being moved in, not funnel events happening
now, and a host would otherwise receive thousands of "new lead" alerts for last year's deals.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from charset_normalizer import from_bytes
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.capture.recognition import roles_in
from embedcrm.contacts.models import Contact
from embedcrm.contacts.service import (
    add_contact,
    contact_by_email,
    contact_by_phone,
    keep_contact_points,
    lock_contact_identities,
    normalise_email,
    normalise_phone,
)
from embedcrm.db import Database, utcnow
from embedcrm.errors import EmbedCRMError, ValidationFailed
from embedcrm.fields.filters import parse_money
from embedcrm.fields.models import FieldEntity
from embedcrm.kit.models import fold
from embedcrm.leads.models import Activity, ActivityKind, Lead, LeadStatus
from embedcrm.leads.moves import STATUS_OF_KIND
from embedcrm.leads.service import add_activity, add_lead, leads_by_import_keys
from embedcrm.pipelines.models import Stage, StageKind
from embedcrm.pipelines.service import add_stage, default_pipeline_stages
from embedcrm.workspaces.access import load_actor
from embedcrm.workspaces.repository import WorkspaceDirectory

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000

TARGETS = (
    "external_id",
    "title",
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "stage",
    "channel",
    "value",
    "currency",
    "created_at",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "message",
)

WON_WORDS = (
    "сконвертирован",
    "успешн",
    "выигран",
    "оплачен",
    "won",
    "closed won",
    "сделка заключена",
)
LOST_WORDS = ("некачественн", "отказ", "проигран", "закрыт", "lost", "спам", "junk")
DATE_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    delimiter: str
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str


@dataclass
class ImportReport:
    encoding: str
    delimiter: str
    mapping: dict[str, str]
    total_rows: int = 0
    valid_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    contacts_created: int = 0
    contacts_matched: int = 0
    leads_created: int = 0
    leads_existing: int = 0
    stages_created: list[str] = field(default_factory=list)
    dry_run: bool = True
    imported: bool = False


Progress = Callable[[int, int], None]


def decode(raw: bytes) -> tuple[str, str]:
    """Text and encoding name: a BOM or valid UTF-8 first, then a detector (e.g. Windows-1251)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw).best()
    if best is None:
        raise ValidationFailed("The file's encoding could not be recognised.", field="content")
    return str(best), best.encoding


def parse_csv(raw: bytes) -> Decoded:
    if len(raw) > MAX_BYTES:
        raise ValidationFailed(f"The file is over {MAX_BYTES // 1024 // 1024} MB.", field="content")
    text, encoding = decode(raw)
    first_line = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(text[:20000], delimiters=";,\t|").delimiter
    except csv.Error:
        delimiter = max(";,\t|", key=first_line.count)
    # The header decides when the sniffer is unsure: it holds no quoted line breaks.
    if first_line.count(delimiter) == 0:
        delimiter = max(";,\t|", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [row for row in reader]
    if not rows:
        raise ValidationFailed("The file is empty.", field="content")
    headers = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    if len(body) > MAX_ROWS:
        raise ValidationFailed(f"At most {MAX_ROWS} rows per file.", field="content")
    return Decoded(text=text, encoding=encoding, delimiter=delimiter, headers=headers, rows=body)


def suggest_mapping(headers: Sequence[str]) -> dict[str, str]:
    """Column -> target by the synonyms forms use too; each target is suggested once, and a
    column that names nothing importable (or a target already taken) is skipped."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        target = next((r for r in roles_in(header) if r not in taken), "skip")
        if target not in TARGETS:
            target = "skip"
        if target != "skip":
            taken.add(target)
        mapping[header] = target
    return mapping


def parse_time(value: str, zone: ZoneInfo) -> datetime:
    value = value.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("Not a date and time.") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


@dataclass
class ParsedRow:
    row: int
    values: dict[str, str]
    name: str | None = None
    email: str | None = None
    phones: list[str] = field(default_factory=list)
    value: Decimal | None = None
    created_at: datetime | None = None


def parse_row(
    number: int, values: dict[str, str], zone: ZoneInfo, columns: Mapping[str, str]
) -> tuple[ParsedRow, list[RowError]]:
    errors: list[RowError] = []
    parsed = ParsedRow(row=number, values=values)
    name = " ".join(
        p for p in (values.get("first_name", ""), values.get("last_name", "")) if p.strip()
    )
    parsed.name = (values.get("name") or name).strip() or None
    if values.get("email", "").strip():
        try:
            parsed.email = normalise_email(values["email"])
        except EmbedCRMError:
            errors.append(RowError(number, columns.get("email"), "Not an e-mail address."))
    for part in re.split(r"[,;]", values.get("phone", "")):
        if part.strip():
            try:
                parsed.phones.append(normalise_phone(part.strip()))
            except EmbedCRMError:
                errors.append(
                    RowError(number, columns.get("phone"), f"Not a phone number: {part.strip()!r}.")
                )
    if values.get("value", "").strip():
        try:
            parsed.value = parse_money(values["value"], "value")
        except EmbedCRMError:
            errors.append(
                RowError(
                    number, columns.get("value"), f"Not an amount: {values['value'].strip()!r}."
                )
            )
    if values.get("created_at", "").strip():
        try:
            parsed.created_at = parse_time(values["created_at"], zone)
        except ValueError:
            errors.append(
                RowError(
                    number,
                    columns.get("created_at"),
                    f"Not a date: {values['created_at'].strip()!r}.",
                )
            )
    if not (parsed.name or parsed.email or parsed.phones) and not any(
        e.column in (columns.get("email"), columns.get("phone")) for e in errors
    ):
        errors.append(RowError(number, None, "The row names nobody: no name, e-mail or phone."))
    return parsed, errors


class _DryRun(Exception):
    """Rolls the dry run's transaction back after it has computed everything."""


class ImportService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def preview(self, raw: bytes) -> tuple[Decoded, dict[str, str]]:
        decoded = parse_csv(raw)
        return decoded, suggest_mapping(decoded.headers)

    async def run(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        raw: bytes,
        *,
        entity: FieldEntity,
        mapping: Mapping[str, str] | None = None,
        dry_run: bool = True,
        skip_invalid_rows: bool = False,
        default_currency: str = "RUB",
        progress: Progress | None = None,
    ) -> ImportReport:
        decoded = parse_csv(raw)
        columns = dict(mapping) if mapping else suggest_mapping(decoded.headers)
        for column, target in columns.items():
            if column not in decoded.headers:
                raise ValidationFailed(f"The file has no column {column!r}.", field="mapping")
            if target != "skip" and target not in TARGETS:
                raise ValidationFailed(
                    f"{target!r} is not a field to import into.", field="mapping"
                )
        targets = [t for t in columns.values() if t != "skip"]
        if len(targets) != len(set(targets)):
            raise ValidationFailed("Map each field from one column only.", field="mapping")
        report = ImportReport(
            encoding=decoded.encoding, delimiter=decoded.delimiter, mapping=columns, dry_run=dry_run
        )
        report.total_rows = len(decoded.rows)
        try:
            async with self.db.transaction() as session:
                await load_actor(session, principal, workspace_id, field="workspaceId")
                workspace = await WorkspaceDirectory(session).get(workspace_id)
                assert workspace is not None
                zone = ZoneInfo(workspace.timezone)
                by_target = {t: c for c, t in columns.items() if t != "skip"}
                parsed_rows: list[ParsedRow] = []
                for number, cells in enumerate(decoded.rows, start=1):
                    values = {
                        t: cells[decoded.headers.index(c)]
                        if decoded.headers.index(c) < len(cells)
                        else ""
                        for c, t in columns.items()
                        if t != "skip"
                    }
                    parsed, errors = parse_row(number, values, zone, by_target)
                    if errors:
                        report.errors.extend(errors)
                    else:
                        parsed_rows.append(parsed)
                report.valid_rows = len(parsed_rows)
                if report.errors and not skip_invalid_rows:
                    return report
                await self._write(
                    session, workspace_id, parsed_rows, entity, report, default_currency, progress
                )
                if dry_run:
                    raise _DryRun
                report.imported = True
        except _DryRun:
            pass
        return report

    async def _write(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        rows: list[ParsedRow],
        entity: FieldEntity,
        report: ImportReport,
        default_currency: str,
        progress: Progress | None,
    ) -> None:
        # Rows are matched against contacts that submissions may be creating right now.
        await lock_contact_identities(session, workspace_id)
        by_email: dict[str, Contact] = {}
        by_phone: dict[str, Contact] = {}
        stages = await _StageResolver.load(session, workspace_id)
        keys = {self._key(row): row for row in rows}
        existing = (
            await leads_by_import_keys(session, workspace_id, keys)
            if entity is FieldEntity.LEAD
            else {}
        )
        now = utcnow()
        for done, row in enumerate(rows, start=1):
            if entity is FieldEntity.LEAD and self._key(row) in existing:
                # Imported before: its lead and contact are there already.
                report.leads_existing += 1
                if progress is not None:
                    progress(done, len(rows))
                continue
            contact = (by_email.get(row.email) if row.email else None) or next(
                (by_phone[p] for p in row.phones if p in by_phone), None
            )
            if contact is None and row.email:
                contact = await contact_by_email(session, workspace_id, row.email)
            if contact is None:
                for phone in row.phones:
                    contact = await contact_by_phone(session, workspace_id, phone)
                    if contact:
                        break
            created_at = row.created_at or now
            if contact is None:
                contact = add_contact(
                    session,
                    workspace_id,
                    Contact(
                        name=row.name,
                        email=row.email,
                        email_normalized=row.email,
                        phone=row.values.get("phone", "").split(",")[0].strip() or None,
                        phone_e164=row.phones[0] if row.phones else None,
                        company=row.values.get("company", "").strip() or None,
                        created_at=created_at,
                        updated_at=now,
                    ),
                )
                await session.flush()
                report.contacts_created += 1
            else:
                contact.name = contact.name or row.name
                contact.company = contact.company or (row.values.get("company", "").strip() or None)
                if not contact.email_normalized and row.email:
                    contact.email = contact.email_normalized = row.email
                if not contact.phone_e164 and row.phones:
                    contact.phone_e164 = row.phones[0]
                if created_at < contact.created_at:
                    contact.created_at = created_at
                report.contacts_matched += 1
            if set(row.phones) - {contact.phone_e164} or (
                row.email and row.email != contact.email_normalized
            ):
                # Every phone of the row, and an e-mail beside another one, are kept.
                await keep_contact_points(
                    session,
                    workspace_id,
                    contact,
                    emails=[row.email] if row.email else [],
                    phones=row.phones,
                )
            if row.email:
                by_email.setdefault(row.email, contact)
            for phone in row.phones:
                by_phone.setdefault(phone, contact)
            if entity is FieldEntity.LEAD:
                key = self._key(row)
                if key in existing:
                    # The same id twice in one file: one lead.
                    report.leads_existing += 1
                else:
                    stage = await stages.resolve(row.values.get("stage", ""), report)
                    currency = (
                        (row.values.get("currency", "").strip().upper() or None)
                        if row.value is not None
                        else None
                    )
                    lead = add_lead(
                        session,
                        workspace_id,
                        Lead(
                            contact_id=contact.id,
                            pipeline_id=stage.pipeline_id,
                            stage_id=stage.id,
                            title=(
                                row.values.get("title", "").strip()
                                or f"Импорт: {row.name or row.email or ''}"
                            )[:300],
                            status=STATUS_OF_KIND[stage.kind] if stage.kind else LeadStatus.OPEN,
                            value=row.value,
                            # A value in the file was entered by someone: a cart leaves it.
                            value_set_by_hand=row.value is not None,
                            currency=currency
                            or (default_currency if row.value is not None else None),
                            message=row.values.get("message", "").strip() or None,
                            channel=row.values.get("channel", "").strip()[:100] or None,
                            utm_source=row.values.get("utm_source", "").strip() or None,
                            utm_medium=row.values.get("utm_medium", "").strip() or None,
                            utm_campaign=row.values.get("utm_campaign", "").strip() or None,
                            utm_term=row.values.get("utm_term", "").strip() or None,
                            utm_content=row.values.get("utm_content", "").strip() or None,
                            import_key=key,
                            custom_fields={},
                            click_ids={},
                            first_touch={},
                            event_sequence=0,
                            created_at=created_at,
                            updated_at=now,
                        ),
                    )
                    existing[key] = lead
                    await session.flush()
                    add_activity(
                        session,
                        workspace_id,
                        Activity(
                            contact_id=contact.id,
                            lead_id=lead.id,
                            kind=ActivityKind.NOTE,
                            body=lead.message or "Imported from a file.",
                            data={"import": True, "other_phones": row.phones[1:]},
                            created_at=created_at,
                        ),
                    )
                    report.leads_created += 1
            if progress is not None:
                progress(done, len(rows))
        await session.flush()

    @staticmethod
    def _key(row: ParsedRow) -> str:
        """The row's own id when the file has one, else a hash of what it says."""
        external = row.values.get("external_id", "").strip()
        if external:
            return f"id:{external}"[:200]
        digest = hashlib.sha256(
            "\x1f".join(f"{k}={v.strip()}" for k, v in sorted(row.values.items())).encode()
        )
        return "sha256:" + digest.hexdigest()


class _StageResolver:
    """A file's stage names onto the default pipeline: by name, by meaning (won/lost), or new."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID, stages: list[Stage]) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.stages = stages
        self.cache: dict[str, Stage] = {}

    @classmethod
    async def load(cls, session: AsyncSession, workspace_id: uuid.UUID) -> _StageResolver:
        stages = await default_pipeline_stages(session, workspace_id)
        if not stages:
            raise ValidationFailed("The workspace has no default pipeline.", field="workspaceId")
        return cls(session, workspace_id, stages)

    async def resolve(self, name: str, report: ImportReport) -> Stage:
        folded = fold(name)
        if not folded:
            return self.stages[0]
        if folded in self.cache:
            return self.cache[folded]
        stage = next((s for s in self.stages if fold(s.name) == folded), None)
        if stage is None and any(w in folded for w in WON_WORDS):
            stage = next((s for s in self.stages if s.kind is StageKind.WON), None)
        if stage is None and any(w in folded for w in LOST_WORDS):
            stage = next((s for s in self.stages if s.kind is StageKind.LOST), None)
        if stage is None:
            # An open stage the pipeline lacks: added before the closed ones, and reported.
            closed_at = next(
                (i for i, s in enumerate(self.stages) if s.kind is not StageKind.OPEN),
                len(self.stages),
            )
            stage = add_stage(
                self.session,
                self.workspace_id,
                Stage(
                    pipeline_id=self.stages[0].pipeline_id,
                    name=name.strip()[:200],
                    position=closed_at,
                    probability=10,
                    kind=StageKind.OPEN,
                ),
            )
            self.stages.insert(closed_at, stage)
            for i, s in enumerate(self.stages):
                s.position = i
            await self.session.flush()
            report.stages_created.append(stage.name)
        self.cache[folded] = stage
        return stage
