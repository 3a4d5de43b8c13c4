"""Message templates: ``{{contact.first_name}}``-style variables, checked when a template is
saved and filled when a message is made.

The variables are a fixed list (nothing a template says can reach an attribute or run code);
a name outside it is refused by name when the template is saved or previewed. A variable with
no value in a message (a segment offer has no lead) is left empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from embedcrm.errors import ValidationFailed

VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
# Braces left once the variables are taken out: a typo the owner should see.
LEFTOVER = re.compile(r"\{\{.{0,40}|.{0,40}\}\}", re.S)

VARIABLES: dict[str, str] = {
    "contact.name": "the contact's name",
    "contact.first_name": "the first word of the contact's name",
    "contact.email": "the contact's e-mail",
    "contact.phone": "the contact's phone",
    "lead.title": "the lead's title",
    "lead.value": "the lead's value, a decimal number",
    "lead.currency": "the lead's currency (ISO 4217)",
    "stage.name": "the lead's stage (the order's status)",
    "order.items": "the lead's cart, one line per item: product × quantity",
    "order.total": "the cart's total",
    "delivery.date": "the lead's custom field delivery_date",
    "delivery.address": "the lead's custom field delivery_address",
    "task.title": "the reminded task or appointment",
    "task.due": "when it is due, on the client's clock (dd.mm.yyyy hh:mm)",
    "holiday.name": "the holiday greeted on",
    "manager.name": "the assigned manager's name",
    "manager.email": "the assigned manager's e-mail",
    "shop.name": "the workspace's name",
    "unsubscribe.url": "the contact's one-click unsubscribe link",
    "feedback.nps_url": "a link asking how likely the client is to recommend the shop (0-10)",
    "feedback.csat_url": "a link asking how satisfied the client is (1-5)",
    "feedback.nps_site_url": "the NPS question on the shop's own site, drawn by the widget "
    "(the hosted link when the lead came from no site)",
    "feedback.csat_site_url": "the CSAT question on the shop's own site, drawn by the widget "
    "(the hosted link when the lead came from no site)",
}


def check_template(text: str, field: str) -> None:
    """Refuse a variable outside the list, or braces that are no variable, naming it."""
    for match in VARIABLE.finditer(text):
        if match.group(1) not in VARIABLES:
            raise ValidationFailed(
                f"Unknown variable {{{{{match.group(1)}}}}}; known: {', '.join(VARIABLES)}.",
                field=field,
            )
    leftover = LEFTOVER.search(VARIABLE.sub("", text))
    if leftover is not None:
        raise ValidationFailed(
            f"{leftover.group(0)[:60]} is not a variable; write them as {{{{contact.name}}}}.",
            field=field,
        )


def render(text: str, values: Mapping[str, str | None]) -> str:
    return VARIABLE.sub(lambda match: values.get(match.group(1)) or "", text)


def first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.split() else None
