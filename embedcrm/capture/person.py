"""Normalising who a submission is from: e-mail by email-validator, phone to E.164."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from embedcrm.capture.recognition import RecognisedForm, recognise_form
from embedcrm.contacts.service import Person
from embedcrm.errors import ValidationFailed


def normalise_email(raw: str) -> str:
    """The address lower-cased as a whole: mailboxes differing only in case are one person."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(str(exc), field="email") from exc
    return checked.normalized.lower()


def normalise_phone(raw: str, region: str) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed("This is not a phone number.", field="phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed("This is not a phone number.", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def person_from_fields(fields: Mapping[str, Any], *, phone_region: str) -> Person:
    errors: dict[str, str] = {}
    email = _text(fields.get("email"))
    phone = _text(fields.get("phone"))
    email_normalized = phone_e164 = None
    if email:
        try:
            email_normalized = normalise_email(email)
        except ValidationFailed as exc:
            errors["email"] = exc.message
    if phone:
        try:
            phone_e164 = normalise_phone(phone, phone_region)
        except ValidationFailed as exc:
            errors["phone"] = exc.message
    if not errors and not (email or phone):
        errors["email"] = "Give an e-mail or a phone number."
    if errors:
        raise ValidationFailed("Some fields are not valid.", fields=errors)
    return Person(
        name=_text(fields.get("name")),
        email=email,
        email_normalized=email_normalized,
        phone=phone,
        phone_e164=phone_e164,
        company=_text(fields.get("company")),
    )


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def person_as_given(
    name: str | None,
    email: str | None,
    phone: str | None,
    company: str | None,
    *,
    phone_region: str,
) -> Person:
    """The person a bound form names, never refused: an e-mail or phone that does not parse is
    kept as the visitor typed it (for the owner to read) but matches no one."""
    email_normalized = phone_e164 = None
    if email:
        try:
            email_normalized = normalise_email(email)
        except ValidationFailed:
            pass
    if phone:
        try:
            phone_e164 = normalise_phone(phone, phone_region)
        except ValidationFailed:
            pass
    return Person(
        name=_clip(name, 200),
        email=_clip(email, 320),
        email_normalized=email_normalized,
        phone=_clip(phone, 64),
        phone_e164=phone_e164,
        company=_clip(company, 200),
    )


def person_of_form(form: RecognisedForm, *, phone_region: str) -> Person:
    """The person a recognised form names: whom processing matches and erasure looks for."""
    return person_as_given(
        form.name,
        form.text("email"),
        form.text("phone"),
        form.text("company"),
        phone_region=phone_region,
    )


def person_of_submission(body: Mapping[str, Any], *, phone_region: str) -> Person:
    """The person a stored submission names, its fields recognised as processing does."""
    return person_of_form(
        recognise_form(body.get("fields") or {}, body.get("seen")), phone_region=phone_region
    )


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if text else None
