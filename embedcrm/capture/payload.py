"""Reading a submission body: three content types, strict limits, one normalised shape."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from embedcrm.capture.recognition import clean_seen
from embedcrm.errors import BadRequest, UnsupportedMediaType, ValidationFailed
from embedcrm.storable import UNSTORABLE_TEXT, find_unstorable

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
    # Not part of the body (nor of its hash): whether the sender set the top-level honeypot key,
    # as the widget always does, and whether it came as a plain HTML form.
    honeypot_sent: bool = False
    form_encoded: bool = False

    @property
    def body_hash(self) -> str:
        """Two requests are "the same submission" when their bodies hash alike."""
        return body_hash_of(self.canonical_json())

    def canonical_json(self) -> str:
        """The body as the one text its hash is taken of (keys sorted, no spaces)."""
        return json.dumps(self.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_hash_of(canonical_json: str) -> str:
    return hashlib.sha256(canonical_json.encode()).hexdigest()


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
    form_encoded = kind == "application/x-www-form-urlencoded"
    document = _read_form(text) if form_encoded else _read_json(text)
    return _validate(document, form_encoded=form_encoded)


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


def _validate(document: dict[str, Any], *, form_encoded: bool) -> SubmissionPayload:
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
            errors[UNSTORABLE_TEXT.sub("\ufffd", name[:MAX_FIELD_NAME])] = (
                "Field names are 1 to 64 printable characters."
            )
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
    unstorable = {
        UNSTORABLE_TEXT.sub("\ufffd", name): found[1]
        for name, value in fields.items()
        if not _plainly_storable(name, value) and (found := find_unstorable({name: value}))
    }
    if unstorable:
        raise ValidationFailed("Some fields hold what no database can store.", fields=unstorable)
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
            # Only signals are read from these, so anything unstorable is dropped, not refused.
            body[key] = UNSTORABLE_TEXT.sub("", value[:MAX_CONTEXT_VALUE])
    seen = clean_seen(document.get("seen"), fields)
    if seen:
        # What the page showed, not what the visitor typed: unstorable characters are dropped.
        body["seen"] = {
            name: {k: UNSTORABLE_TEXT.sub("", v) for k, v in info.items()}
            for name, info in seen.items()
        }
    withheld = document.get("withheld")
    if isinstance(withheld, list) and withheld:
        body["withheld"] = sorted(
            {
                UNSTORABLE_TEXT.sub("", str(n)[:MAX_FIELD_NAME])
                for n in withheld[:MAX_WITHHELD]
                if isinstance(n, str)
            }
        )
    filled = document.get("filled_ms")
    if isinstance(filled, int) and not isinstance(filled, bool):
        body["filled_ms"] = filled
    return SubmissionPayload(
        submission_id=submission_id,
        generated_id=generated,
        body=body,
        honeypot_sent="honeypot" in document,
        form_encoded=form_encoded,
    )


def _plainly_storable(name: str, value: Any) -> bool:
    """A text field with nothing unstorable in its name or value, told without the general
    walk (find_unstorable), which every other value still takes."""
    return (
        isinstance(value, str)
        and UNSTORABLE_TEXT.search(name) is None
        and UNSTORABLE_TEXT.search(value) is None
    )


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
# Addresses panels and webhooks show as links: only web pages, never javascript: or data:.
URL_KEYS = frozenset({"page_url", "referrer", "landing_page"})


def _context(raw: Any) -> dict[str, Any]:
    """Keep the parts of the context we understand, each value short; drop the rest.

    The visitor never typed any of it, so what cannot be stored (or is no web address where one
    is expected) is dropped rather than refused: the lead matters more than its attribution.
    """
    if not isinstance(raw, dict):
        return {}
    context: dict[str, Any] = {}
    for key in CONTEXT_KEYS:
        value = _context_text(key, raw.get(key))
        if value:
            context[key] = value
    for key in ("utm", "click_ids"):
        context[key] = _flat_strings(raw.get(key))
    first_touch = raw.get("first_touch")
    if isinstance(first_touch, dict):
        touch: dict[str, Any] = {
            k: value
            for k in (*CONTEXT_KEYS, "at")
            if (value := _context_text(k, first_touch.get(k)))
        }
        touch["utm"] = _flat_strings(first_touch.get("utm"))
        touch["click_ids"] = _flat_strings(first_touch.get("click_ids"))
        context["first_touch"] = touch
    return context


def _context_text(key: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value or UNSTORABLE_TEXT.search(value):
        return None
    if key in URL_KEYS and not is_web_url(value):
        return None
    return value[:MAX_CONTEXT_VALUE]


def is_web_url(value: str) -> bool:
    """True for an absolute http(s) address with a host."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)


def _flat_strings(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {
        str(k)[:40]: v[:200]
        for k, v in list(raw.items())[:20]
        if isinstance(v, str) and v and not UNSTORABLE_TEXT.search(f"{k}{v}")
    }
