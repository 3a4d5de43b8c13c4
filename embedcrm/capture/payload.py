"""Reading a submission body: three content types, strict limits, one normalised shape."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from embedcrm.capture.recognition import clean_seen
from embedcrm.errors import BadRequest, UnsupportedMediaType, ValidationFailed

MAX_FIELDS = 50
MAX_FIELD_NAME = 64
MAX_VALUE = 2000
MAX_LIST_ITEMS = 20
# Longer limits for the free-text message, shorter for what fits a contact card.
FIELD_LIMITS = {"name": 200, "email": 320, "phone": 64, "company": 200, "message": 5000}
MAX_CONTEXT_VALUE = 2000
RESERVED_FORM_KEYS = {"submission_id", "form", "consent", "honeypot", "form_token", "filled_ms"}
MAX_WITHHELD = 50

_SUBMISSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$")
# Builders name fields in any script and with spaces ("Имя", "Email 2"), and a field with no name
# is sent under its id or label text ("Телефон:"), so any printable text is a name.
_FIELD_NAME = re.compile(r"^(?=.*\S)[^\x00-\x1f\x7f]{1,64}$")
_FORM_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclass(frozen=True)
class SubmissionPayload:
    """A submission as stored: every value checked, the shape the same for every content type."""

    submission_id: str
    generated_id: bool
    body: dict[str, Any]

    @property
    def body_hash(self) -> str:
        """Two requests are "the same submission" when their bodies hash alike."""
        canonical = json.dumps(self.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def parse_submission(content_type: str | None, raw: bytes) -> SubmissionPayload:
    kind = media_type(content_type)
    if kind not in {"application/json", "text/plain", "application/x-www-form-urlencoded"}:
        raise UnsupportedMediaType(
            "Send application/json, text/plain holding JSON, or a form-encoded body."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("The body is not valid UTF-8.") from exc
    document = _read_form(text) if kind == "application/x-www-form-urlencoded" else _read_json(text)
    return _validate(document)


def _read_json(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except RecursionError as exc:
        raise BadRequest("The JSON is nested too deeply.") from exc
    except ValueError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc.args[0]}") from exc
    if not isinstance(document, dict):
        raise BadRequest("The body must be a JSON object.")
    return document


def _read_form(text: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS + len(RESERVED_FORM_KEYS),
        )
    except ValueError as exc:
        raise ValidationFailed(f"A form has at most {MAX_FIELDS} fields.") from exc
    document: dict[str, Any] = {"fields": {}}
    for key, value in pairs:
        if key in RESERVED_FORM_KEYS:
            document[key] = value
        else:
            previous = document["fields"].get(key)
            if previous is None:
                document["fields"][key] = value
            else:
                document["fields"][key] = (
                    [*previous, value] if isinstance(previous, list) else [previous, value]
                )
    if "consent" in document:
        document["consent"] = document["consent"].lower() in {"1", "true", "on", "yes"}
    if "filled_ms" in document:
        document["filled_ms"] = _int_or_none(document["filled_ms"])
    return document


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _validate(document: dict[str, Any]) -> SubmissionPayload:
    errors: dict[str, str] = {}
    submission_id = document.get("submission_id")
    generated = submission_id in (None, "")
    if generated:
        submission_id = str(uuid.uuid4())
    elif not isinstance(submission_id, str) or not _SUBMISSION_ID.match(submission_id):
        raise BadRequest(
            "submission_id is 1 to 255 letters, digits, '.', '_', ':' or '-'.",
            field="submission_id",
        )
    form = document.get("form") or "default"
    if not isinstance(form, str) or not _FORM_KEY.match(form):
        errors["form"] = "form is a key of 1 to 100 letters, digits, '.', '_' or '-'."
    raw_fields = document.get("fields", {})
    if not isinstance(raw_fields, dict):
        raise ValidationFailed("fields must be an object.", field="fields")
    if len(raw_fields) > MAX_FIELDS:
        raise ValidationFailed(f"A form has at most {MAX_FIELDS} fields.", field="fields")
    fields: dict[str, Any] = {}
    for name, value in raw_fields.items():
        if not _FIELD_NAME.match(name):
            errors[name[:MAX_FIELD_NAME]] = "Field names are 1 to 64 printable characters."
            continue
        checked = _field_value(name, value)
        if isinstance(checked, _Invalid):
            errors[name] = checked.message
        elif checked not in (None, "", []):
            fields[name] = checked
    consent = document.get("consent")
    if consent is not None and not isinstance(consent, bool):
        errors["consent"] = "consent is true or false."
    if errors:
        raise ValidationFailed("Some fields are not valid.", fields=errors)
    body: dict[str, Any] = {
        "submission_id": submission_id,
        "form": form,
        "fields": fields,
        "context": _context(document.get("context")),
    }
    if consent is not None:
        body["consent"] = consent
    for key in ("honeypot", "form_token"):
        value = document.get(key)
        if isinstance(value, str) and value:
            body[key] = value[:MAX_CONTEXT_VALUE]
    seen = clean_seen(document.get("seen"), fields)
    if seen:
        body["seen"] = seen
    withheld = document.get("withheld")
    if isinstance(withheld, list) and withheld:
        body["withheld"] = sorted(
            {str(n)[:MAX_FIELD_NAME] for n in withheld[:MAX_WITHHELD] if isinstance(n, str)}
        )
    filled = document.get("filled_ms")
    if isinstance(filled, int) and not isinstance(filled, bool):
        body["filled_ms"] = filled
    return SubmissionPayload(submission_id=submission_id, generated_id=generated, body=body)


@dataclass(frozen=True)
class _Invalid:
    message: str


def _field_value(name: str, value: Any) -> Any:
    limit = FIELD_LIMITS.get(name, MAX_VALUE)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        value = value.strip()
        if len(value) > limit:
            return _Invalid(f"At most {limit} characters.")
        return value
    if isinstance(value, list) and len(value) <= MAX_LIST_ITEMS:
        items = [str(v).strip() for v in value if isinstance(v, str | int | float)]
        if len(items) != len(value) or any(len(v) > limit for v in items):
            return _Invalid(f"A list of up to {MAX_LIST_ITEMS} short values.")
        return items
    return _Invalid("A text, a number, true/false or a short list.")


CONTEXT_KEYS = ("page_url", "referrer", "landing_page", "language")


def _context(raw: Any) -> dict[str, Any]:
    """Keep the parts of the context we understand, each value short; drop the rest."""
    if not isinstance(raw, dict):
        return {}
    context: dict[str, Any] = {}
    for key in CONTEXT_KEYS:
        value = raw.get(key)
        if isinstance(value, str) and value:
            context[key] = value[:MAX_CONTEXT_VALUE]
    for key in ("utm", "click_ids"):
        context[key] = _flat_strings(raw.get(key))
    first_touch = raw.get("first_touch")
    if isinstance(first_touch, dict):
        touch: dict[str, Any] = {
            k: first_touch[k][:MAX_CONTEXT_VALUE]
            for k in (*CONTEXT_KEYS, "at")
            if isinstance(first_touch.get(k), str)
        }
        touch["utm"] = _flat_strings(first_touch.get("utm"))
        touch["click_ids"] = _flat_strings(first_touch.get("click_ids"))
        context["first_touch"] = touch
    return context


def _flat_strings(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(k)[:40]: v[:200] for k, v in list(raw.items())[:20] if isinstance(v, str) and v}
