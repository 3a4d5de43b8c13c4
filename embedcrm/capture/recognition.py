"""What a form field or a CSV column holds, from what a page or a file says about it.

One synonym list, in Russian and English, serves both the forms a site builder generated and
the headers of a CSV import, so a word learnt for one is known to the other. A form field is
recognised in the order docs/contract.md fixes: ``data-embedcrm-field``, the ``autocomplete``
token, the input type, then its name, id and label against the synonyms; the first match wins.

It also decides what must never be stored (card data, passwords, one-time codes, files) and
which fields are a builder's own plumbing (CSRF tokens, ``_wpcf7*``, ``tildaspec-*``) that stay
on the submission but out of the lead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# The contact's and lead's own fields a form can fill.
FORM_ROLES = frozenset(
    {"email", "phone", "name", "first_name", "middle_name", "last_name", "message", "company"}
)
CONSENT = "consent"
IGNORE = "ignore"

# (role, phrases) in priority order: the first role with a phrase in the text wins, so the
# specific comes before the general ("company name" is a company, "Название компании" a title).
# A phrase matches whole words of the folded text, or one word spelt without its spaces
# ("e mail" matches "email", "first name" matches "firstname"); a trailing "*" matches the start
# of a word, for Russian endings ("почт*": почта, почту, почты); a leading "=" the whole text.
SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("utm_source", ("utm source",)),
    ("utm_medium", ("utm medium",)),
    ("utm_campaign", ("utm campaign",)),
    ("utm_term", ("utm term",)),
    ("utm_content", ("utm content",)),
    ("title", ("название*", "title", "сделка")),
    (
        CONSENT,
        (
            "consent",
            "acceptance",
            "accept*",
            "agree*",
            "gdpr",
            "privacy",
            "terms",
            "соглас*",
            "персональн*",
            "конфиденциальн*",
            "политик*",
            "оферт*",
        ),
    ),
    (
        "email",
        ("e mail", "mail", "почт*", "емейл", "емайл", "имейл", "электронн*", "эл почт*"),
    ),
    (
        "phone",
        (
            "phone",
            "telephone",
            "tel",
            "mobile",
            "cell",
            "whatsapp",
            "телефон*",
            "тел",
            "моб*",
            "=tell",
        ),
    ),
    ("last_name", ("фамили*", "last name", "last", "lname", "surname", "family name")),
    ("middle_name", ("отчеств*", "middle name", "additional name", "middle")),
    ("first_name", ("имя", "first name", "first", "fname", "given name")),
    ("company", ("компани*", "организаци*", "фирм*", "company", "organization", "organisation")),
    (
        "name",
        (
            "фио",
            "name",
            "full name",
            "контакт*",
            "как к вам обращаться",
            "как вас зовут",
            "обращени*",
        ),
    ),
    (
        "message",
        (
            "сообщени*",
            "комментари*",
            "вопрос*",
            "пожелани*",
            "примечани*",
            "текст*",
            "message",
            "comment*",
            "question*",
            "textarea",
            "enquiry",
            "inquiry",
            "msg",
        ),
    ),
    ("stage", ("стади*", "этап*", "статус*", "stage")),
    ("channel", ("источник*", "канал*", "source", "channel")),
    ("value", ("сумма", "бюджет", "amount", "value")),
    ("currency", ("валюта", "currency")),
    ("created_at", ("дата создания", "создан*", "created", "дата")),
    ("external_id", ("id",)),
)

# Names, ids and labels of what is never sent or stored (PCI DSS keeps card numbers and
# security codes out, and a password or one-time code has no business in a CRM).
SENSITIVE_PHRASES = (
    "cc number",
    "cc num",
    "cc name",
    "cc exp*",
    "cc csc",
    "cc cvv",
    "cc cvc",
    "cc type",
    "card number",
    "card num*",
    "credit card",
    "card cvv",
    "card code",
    "security code",
    "cvv*",
    "cvc*",
    "csc",
    "номер карт*",
    "срок действия карт*",
    "password",
    "passwd",
    "pwd",
    "парол*",
    "one time code",
    "otp",
)
SENSITIVE_AUTOCOMPLETE = re.compile(r"^(cc-.*|new-password|current-password|one-time-code)$")
SENSITIVE_TYPES = frozenset({"password", "file"})

# A builder's own hidden fields: nonces, CSRF tokens, captcha answers, form ids, honeypots.
TECHNICAL_NAME = re.compile(
    r"""^(?:_wpcf7.*|_wpnonce|_wp_http_referer|tildaspec-.*|formservices\[\]|form-spec-comments
    |.*csrf.*|_token|authenticity_token|__requestverificationtoken|_gotcha|utf8
    |g-recaptcha-response|h-captcha-response|cf-turnstile-response|smart-token
    |b_[0-9a-f]+_[0-9a-f]+|wpforms\[(?:id|author|post_id|token)\]|gform_.*|is_submit_.*
    |state_\d+|post_id|form_id|queried_id|referer_title|_redirect|_next|_subject)$""",
    re.IGNORECASE | re.VERBOSE,
)

AUTOCOMPLETE_ROLES = {
    "email": "email",
    "tel": "phone",
    "tel-national": "phone",
    "tel-local": "phone",
    "name": "name",
    "nickname": "name",
    "given-name": "first_name",
    "additional-name": "middle_name",
    "family-name": "last_name",
    "organization": "company",
}
_AUTOCOMPLETE_MODIFIERS = re.compile(
    r"^(section-\S*|shipping|billing|home|work|mobile|fax|pager|webauthn)$"
)
TYPE_ROLES = {"email": "email", "tel": "phone"}
DECLARED_ROLES = FORM_ROLES | {CONSENT, IGNORE}
_SEEN_KEYS = ("field", "autocomplete", "type", "id", "label")
MAX_SEEN_TEXT = 200


# ---- folding and matching ---------------------------------------------------------------------


def fold_words(text: str) -> list[str]:
    """Lower-case words: camelCase split, ё as е, letters apart from digits, punctuation gone."""
    text = re.sub(r"([a-zа-яё])([A-ZА-ЯЁ])", r"\1 \2", text)
    text = text.casefold().replace("ё", "е")
    text = re.sub(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])", " ", text)
    return re.findall(r"[^\W_]+", text)


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]
    prefix: bool
    whole: bool

    @classmethod
    def parse(cls, spec: str) -> _Phrase:
        whole = spec.startswith("=")
        prefix = spec.endswith("*")
        return cls(tuple(spec.strip("=*").split()), prefix, whole)

    def matches(self, words: list[str]) -> bool:
        if self.whole:
            return tuple(words) == self.words
        n = len(self.words)
        for start in range(len(words) - n + 1):
            window = zip(words[start : start + n], self.words, strict=True)
            if all(self._word(w, p, i == n - 1) for i, (w, p) in enumerate(window)):
                return True
        # One word spelt without spaces: "email", "firstname", "cardnumber".
        glued = "".join(self.words)
        return n > 1 and any(self._word(w, glued, True) for w in words)

    def _word(self, word: str, phrase: str, last: bool) -> bool:
        return word.startswith(phrase) if self.prefix and last else word == phrase


_SYNONYMS = tuple((role, tuple(_Phrase.parse(p) for p in phrases)) for role, phrases in SYNONYMS)
_SENSITIVE = tuple(_Phrase.parse(p) for p in SENSITIVE_PHRASES)


def roles_in(text: str) -> Iterator[str]:
    """Every role the text names, the most likely first."""
    yield from _roles_named(text)


# A site's forms send the same few field names and labels over and over: matching them
# against every synonym took most of the CPU of making a lead. Bounded, as names come from
# visitors.
@functools.lru_cache(maxsize=4096)
def _roles_named(text: str) -> tuple[str, ...]:
    words = fold_words(text)
    if not words:
        return ()
    return tuple(role for role, phrases in _SYNONYMS if any(p.matches(words) for p in phrases))


@functools.lru_cache(maxsize=4096)
def _names_sensitive(text: str) -> bool:
    words = fold_words(text)
    return bool(words) and any(p.matches(words) for p in _SENSITIVE)


def role_of(text: str, allowed: Collection[str]) -> str | None:
    return next((r for r in roles_in(text) if r in allowed), None)


def autocomplete_token(value: str | None) -> str:
    """The field-name token of an ``autocomplete`` value, without section/shipping/home/…"""
    tokens = [t for t in (value or "").lower().split() if not _AUTOCOMPLETE_MODIFIERS.match(t)]
    return tokens[-1] if tokens else ""


# ---- card numbers -----------------------------------------------------------------------------


_CARD_SEPARATORS = re.compile(r"[\s-]")


def is_card_number(value: Any) -> bool:
    """13 to 19 digits, spaces and dashes aside, that pass the Luhn check: a card number."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return False
    text = str(value)
    if len(text) < 13:  # too short even before separators are taken out (most fields)
        return False
    digits = _CARD_SEPARATORS.sub("", text)
    if not (13 <= len(digits) <= 19 and digits.isascii() and digits.isdigit()):
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# ---- the widget's "seen" extension ------------------------------------------------------------


def clean_seen(raw: Any, names: Collection[str]) -> dict[str, dict[str, str]]:
    """What the widget saw of each field, kept only for fields sent, short strings only."""
    if not isinstance(raw, dict):
        return {}
    seen: dict[str, dict[str, str]] = {}
    for name, info in raw.items():
        if name not in names or not isinstance(info, dict):
            continue
        kept = {
            k: info[k].strip()[:MAX_SEEN_TEXT]
            for k in _SEEN_KEYS
            if isinstance(info.get(k), str) and info[k].strip()
        }
        if kept:
            seen[name] = kept
    return seen


def is_sensitive(name: str, value: Any, seen: Mapping[str, str]) -> bool:
    # Most fields come with nothing seen of them (a post that is not the widget's, or a field
    # it saw nothing of): then only the name and the value can tell.
    if seen and _seen_as_sensitive(seen):
        return True
    if _names_sensitive(name):
        return True
    if isinstance(value, list):
        return any(is_card_number(v) for v in value)
    return is_card_number(value)


def _seen_as_sensitive(seen: Mapping[str, str]) -> bool:
    if seen.get("type", "").lower() in SENSITIVE_TYPES:
        return True
    if SENSITIVE_AUTOCOMPLETE.match(autocomplete_token(seen.get("autocomplete"))):
        return True
    return _names_sensitive(seen.get("id", "")) or _names_sensitive(seen.get("label", ""))


def strip_sensitive(body: dict[str, Any]) -> list[str]:
    """Remove card data, passwords, one-time codes and files from a submission body, in place.

    Returns the names removed; the widget withholds the same, this catches posts that bypass it.
    """
    fields: dict[str, Any] = body.get("fields", {})
    seen: dict[str, dict[str, str]] = body.get("seen", {})
    removed = [n for n, v in fields.items() if is_sensitive(n, v, seen.get(n, {}))]
    for name in removed:
        del fields[name]
        seen.pop(name, None)
    if "seen" in body and not seen:
        del body["seen"]
    return removed


# ---- recognising a form -----------------------------------------------------------------------


@dataclass
class RecognisedForm:
    """A submission's fields sorted into the contact and lead, the rest, and the plumbing."""

    roles: dict[str, Any] = field(default_factory=dict)  # role -> value, each role once
    sources: dict[str, str] = field(default_factory=dict)  # role -> the field it came from
    consent: bool | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    technical: dict[str, Any] = field(default_factory=dict)

    def text(self, role: str) -> str | None:
        value = self.roles.get(role)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if value is None or isinstance(value, bool):
            return None
        return str(value).strip() or None

    @property
    def name(self) -> str | None:
        """The full name, or the first, middle and last names put together."""
        parts = (self.text("first_name"), self.text("middle_name"), self.text("last_name"))
        return self.text("name") or " ".join(p for p in parts if p) or None


_YES = {"on", "yes", "true", "1"}


def _is_box(value: Any, seen: Mapping[str, str]) -> bool:
    """A checkbox or radio, as the widget saw it or as its value says (a plain form's "on")."""
    if seen.get("type") in {"checkbox", "radio"}:
        return not isinstance(value, list)
    return isinstance(value, bool) or str(value).strip().lower() in _YES


def _texts(name: str, seen: Mapping[str, str]) -> tuple[str, str, str]:
    return (name, seen.get("id", ""), seen.get("label", ""))


def field_role(name: str, value: Any, seen: Mapping[str, str]) -> str | None:
    """The role of one field, first match wins: declared, autocomplete, type, name/id/label.

    A box that says consent is consent; any other box (or true/false) fills no contact field.
    """
    declared = seen.get("field", "").lower()
    if declared in DECLARED_ROLES:
        return declared
    if TECHNICAL_NAME.match(name):
        return IGNORE
    if _is_box(value, seen):
        if any(role_of(text, {CONSENT}) for text in _texts(name, seen)):
            return CONSENT
        if isinstance(value, bool) or seen.get("type") in {"checkbox", "radio"}:
            return None
    by_autocomplete = AUTOCOMPLETE_ROLES.get(autocomplete_token(seen.get("autocomplete")))
    if by_autocomplete:
        return by_autocomplete
    by_type = TYPE_ROLES.get(seen.get("type", "").lower())
    if by_type:
        return by_type
    for text in _texts(name, seen):
        role = role_of(text, FORM_ROLES)
        if role:
            return role
    return None


def recognise_form(
    fields: Mapping[str, Any], seen: Mapping[str, Mapping[str, str]] | None = None
) -> RecognisedForm:
    seen = seen or {}
    result = RecognisedForm()
    for name, value in fields.items():
        role = field_role(name, value, seen.get(name, {}))
        if role == IGNORE:
            result.technical[name] = value
        elif role == CONSENT and result.consent is None:
            result.consent = value is True or str(value).strip().lower() in _YES
        elif role in FORM_ROLES and role not in result.roles:
            result.roles[role] = value
            result.sources[role] = name
        else:
            result.custom[name] = value
    return result
