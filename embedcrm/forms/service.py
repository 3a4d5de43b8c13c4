"""Form definitions per site: saved by the host or the owner, served to the widget, enforced at
submission so a form's rules hold even for a visitor who bypasses the widget."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError

from embedcrm.auth import Principal
from embedcrm.db import Database, utcnow
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.forms.models import FieldType, FormDisplay, SiteForm
from embedcrm.forms.repository import SiteFormRepository
from embedcrm.kit.cache import ExpiringCache
from embedcrm.workspaces.access import reader_workspace
from embedcrm.workspaces.models import Site
from embedcrm.workspaces.repository import SiteRepository

LANGUAGES = ("ru", "en")
MAX_FORMS_PER_SITE = 50
MAX_FIELDS = 50  # the submission route takes no more than this either
MAX_OPTIONS = 100
MAX_LABEL = 200
MAX_TEXT = 2000
# The widget asks for the config on every page view and every submission is checked against
# its form, so definitions are cached per process this long; a save in this process clears it.
CACHE_SECONDS = 30.0
# Names the submission route keeps for itself: a field of that name would never arrive in
# ``fields`` (the widget sends a lone checkbox named ``consent`` as the consent flag).
RESERVED_NAMES = frozenset({"submission_id", "form", "honeypot", "form_token", "filled_ms"})

_FORM_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")
_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"", "0", "false", "off", "no"}


@dataclass(frozen=True)
class OptionSpec:
    value: str
    label: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    label: Mapping[str, str | None] = field(default_factory=dict)
    required: bool = False
    options: Sequence[OptionSpec] = ()


@dataclass(frozen=True)
class FormSpec:
    """A form as the host describes it; texts are ``{language: text}``."""

    key: str
    display: FormDisplay = FormDisplay.INLINE
    title: Mapping[str, str | None] = field(default_factory=dict)
    button_label: Mapping[str, str | None] = field(default_factory=dict)
    success_message: Mapping[str, str | None] = field(default_factory=dict)
    consent_text: Mapping[str, str | None] = field(default_factory=dict)
    fields: Sequence[FieldSpec] = ()


class FormService:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: ExpiringCache[dict[str, SiteForm]] = ExpiringCache(CACHE_SECONDS)

    async def site_forms(
        self, principal: Principal, workspace_id: uuid.UUID, site_id: uuid.UUID
    ) -> list[SiteForm]:
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            await _require_site(SiteRepository(session, workspace_id), site_id)
            return list(await SiteFormRepository(session, workspace_id).for_site(site_id))

    async def save(
        self, principal: Principal, workspace_id: uuid.UUID, site_id: uuid.UUID, spec: FormSpec
    ) -> SiteForm:
        """Create the site's form with this key, or replace the one that has it."""
        reader_workspace(principal, workspace_id, field="workspaceId")
        values = _checked(spec)
        try:
            saved = await self._upsert(workspace_id, site_id, spec.key, values)
        except IntegrityError:
            # Two saves of a new key raced; the loser's insert failed, so it now updates.
            saved = await self._upsert(workspace_id, site_id, spec.key, values)
        self._cache.forget(site_id)
        return saved

    async def _upsert(
        self, workspace_id: uuid.UUID, site_id: uuid.UUID, key: str, values: dict[str, Any]
    ) -> SiteForm:
        async with self.db.transaction() as session:
            await _require_site(SiteRepository(session, workspace_id), site_id)
            forms = SiteFormRepository(session, workspace_id)
            row = await forms.by_key(site_id, key)
            if row is None:
                if len(await forms.for_site(site_id)) >= MAX_FORMS_PER_SITE:
                    raise ValidationFailed(
                        f"A site has at most {MAX_FORMS_PER_SITE} forms.", field="key"
                    )
                row = forms.add(SiteForm(site_id=site_id, key=key, created_at=utcnow()))
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            await session.flush()
            return row

    async def delete(
        self, principal: Principal, workspace_id: uuid.UUID, site_id: uuid.UUID, key: str
    ) -> SiteForm:
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            await _require_site(SiteRepository(session, workspace_id), site_id)
            forms = SiteFormRepository(session, workspace_id)
            row = await forms.by_key(site_id, key)
            if row is None:
                raise NotFound("This site has no form with this key.", field="key")
            await forms.remove(row)
        self._cache.forget(site_id)
        return row

    async def _forms_of(self, site: Site) -> dict[str, SiteForm]:
        return await self._cache.get(site.id, lambda: self._load_forms(site))

    async def _load_forms(self, site: Site) -> dict[str, SiteForm]:
        async with self.db.transaction() as session:
            rows = await SiteFormRepository(session, site.workspace_id).for_site(site.id)
        return {row.key: row for row in rows}

    async def widget_forms(self, site: Site) -> dict[str, dict[str, Any]]:
        """The site's forms in the shape of the widget's config."""
        return {key: widget_form(row) for key, row in (await self._forms_of(site)).items()}

    async def refusal(self, site: Site, body: Mapping[str, Any]) -> ValidationFailed | None:
        """Why a form defined for the site refuses this submission, or None when it does not.

        Only a defined form refuses, by its own rules; any other form takes what it is sent.
        Errors are per field and in the visitor's language, so the widget can show them as they
        are. Fields the definition does not name are kept, as for any bound form.
        """
        row = (await self._forms_of(site)).get(str(body.get("form")))
        if row is None:
            return None
        language = body.get("context", {}).get("language") or site.language
        errors = submission_errors(row, body, site.phone_region, language)
        if errors:
            return ValidationFailed(_message("check", language), fields=errors)
        return None


async def _require_site(sites: SiteRepository, site_id: uuid.UUID) -> None:
    # A deleted site accepts nothing: its forms can no longer be seen, saved or removed.
    if await sites.live_one(site_id) is None:
        raise NotFound("No such site.", field="siteId")


def widget_form(row: SiteForm) -> dict[str, Any]:
    return {
        "key": row.key,
        "title": row.title,
        "display": row.display.value,
        "button_label": row.button_label or None,
        "success_message": row.success_message or None,
        "consent_text": row.consent_text or None,
        "fields": row.fields,
    }


# ---- definitions ------------------------------------------------------------------------------


def _checked(spec: FormSpec) -> dict[str, Any]:
    """The row's values from a spec, or every problem with it as ``userErrors`` fields."""
    errors: dict[str, str] = {}
    if not _FORM_KEY.match(spec.key):
        errors["key"] = "A key is 1 to 100 letters, digits, '.', '_' or '-'."
    texts = {
        "title": _texts(spec.title, MAX_LABEL, "title", errors),
        "button_label": _texts(spec.button_label, MAX_LABEL, "buttonLabel", errors),
        "success_message": _texts(spec.success_message, MAX_TEXT, "successMessage", errors),
        "consent_text": _texts(spec.consent_text, MAX_TEXT, "consentText", errors),
    }
    if not spec.fields:
        errors["fields"] = "A form has at least one field."
    if len(spec.fields) > MAX_FIELDS:
        errors["fields"] = f"A form has at most {MAX_FIELDS} fields."
    fields: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, spec_field in enumerate(spec.fields[:MAX_FIELDS]):
        where = f"fields.{index}"
        name = spec_field.name.strip()
        if not _FIELD_NAME.match(name) or name in RESERVED_NAMES:
            errors[f"{where}.name"] = "A name is 1 to 64 letters, digits, '_', '.' or '-'."
        elif name in seen:
            errors[f"{where}.name"] = f"Two fields are named {name!r}."
        seen.add(name)
        if name == "consent" and spec_field.type is not FieldType.CHECKBOX:
            errors[f"{where}.type"] = "The consent field is a checkbox."
        item: dict[str, Any] = {
            "name": name,
            "type": spec_field.type.value,
            "label": _texts(spec_field.label, MAX_LABEL, f"{where}.label", errors),
            "required": spec_field.required,
        }
        if spec_field.type is FieldType.SELECT:
            item["options"] = _options(spec_field.options, f"{where}.options", errors)
        elif spec_field.options:
            errors[f"{where}.options"] = "Only a select has options."
        fields.append(item)
    if errors:
        raise ValidationFailed("The form is not valid.", fields=errors)
    return {"display": spec.display, **texts, "fields": fields}


def _texts(
    value: Mapping[str, str | None], limit: int, where: str, errors: dict[str, str]
) -> dict[str, str]:
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        text = (value.get(language) or "").strip()
        if len(text) > limit:
            errors[f"{where}.{language}"] = f"At most {limit} characters."
        elif text:
            texts[language] = text
    return texts


def _options(
    options: Sequence[OptionSpec], where: str, errors: dict[str, str]
) -> list[dict[str, Any]]:
    if not options:
        errors[where] = "A select has at least one option."
    if len(options) > MAX_OPTIONS:
        errors[where] = f"A select has at most {MAX_OPTIONS} options."
    checked: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, option in enumerate(options[:MAX_OPTIONS]):
        value = option.value.strip()
        if not value or len(value) > MAX_LABEL:
            errors[f"{where}.{index}.value"] = f"A value is 1 to {MAX_LABEL} characters."
        elif value in seen:
            errors[f"{where}.{index}.value"] = f"Two options have the value {value!r}."
        seen.add(value)
        label = _texts(option.label, MAX_LABEL, f"{where}.{index}.label", errors)
        checked.append({"value": value, "label": label})
    return checked


# ---- submissions ------------------------------------------------------------------------------

MESSAGES = {
    "check": {"ru": "Проверьте поля формы.", "en": "Some fields are not valid."},
    "required": {"ru": "Заполните это поле.", "en": "This field is required."},
    "consent": {"ru": "Нужно ваше согласие.", "en": "Your consent is required."},
    "email": {"ru": "Это не адрес e-mail.", "en": "This is not an e-mail address."},
    "tel": {"ru": "Это не номер телефона.", "en": "This is not a phone number."},
    "number": {"ru": "Введите число.", "en": "Enter a number."},
    "date": {"ru": "Введите дату (ГГГГ-ММ-ДД).", "en": "Enter a date (YYYY-MM-DD)."},
    "checkbox": {"ru": "Да или нет.", "en": "Yes or no."},
    "select": {"ru": "Выберите один из вариантов.", "en": "Choose one of the options."},
    "text": {"ru": "Введите текст.", "en": "Enter a text."},
}


def _message(kind: str, language: str) -> str:
    texts = MESSAGES[kind]
    return texts["ru"] if str(language).lower().startswith("ru") else texts["en"]


def submission_errors(
    form: SiteForm, body: Mapping[str, Any], phone_region: str, language: str
) -> dict[str, str]:
    values: Mapping[str, Any] = body.get("fields", {})
    errors: dict[str, str] = {}
    for definition in form.fields:
        name, kind = definition["name"], FieldType(definition["type"])
        # The widget sends a lone consent checkbox as the body's own flag.
        value = body.get("consent") if name == "consent" else values.get(name)
        if _is_empty(value, kind):
            if definition.get("required"):
                errors[name] = _message("consent" if name == "consent" else "required", language)
            continue
        allowed = {o["value"] for o in definition.get("options", [])}
        if not _valid(value, kind, phone_region, allowed):
            errors[name] = _message(kind.value if kind.value in MESSAGES else "text", language)
    if form.consent_text and not any(d["name"] == "consent" for d in form.fields):
        if body.get("consent") is not True:
            errors["consent"] = _message("consent", language)
    return errors


def _is_empty(value: Any, kind: FieldType) -> bool:
    if kind is FieldType.CHECKBOX:
        return value is None or value is False or str(value).strip().lower() in _FALSE
    return value is None or value == "" or value == []


def _valid(value: Any, kind: FieldType, phone_region: str, options: set[str]) -> bool:
    if kind is FieldType.SELECT:
        chosen = value if isinstance(value, list) else [value]
        return all(str(v) in options for v in chosen)
    if isinstance(value, list):
        return False
    if kind is FieldType.CHECKBOX:
        return isinstance(value, bool) or str(value).strip().lower() in _TRUE
    text = str(value).strip()
    if kind is FieldType.EMAIL:
        try:
            validate_email(text, check_deliverability=False)
        except EmailNotValidError:
            return False
        return True
    if kind is FieldType.TEL:
        try:
            number = phonenumbers.parse(text, phone_region)
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_possible_number(number)
    if kind is FieldType.NUMBER:
        if isinstance(value, bool):
            return False
        try:
            return math.isfinite(float(text.replace(",", ".")))
        except ValueError:
            return False
    if kind is FieldType.DATE:
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
        return len(text) == 10
    return isinstance(value, str | int | float) and not isinstance(value, bool)
