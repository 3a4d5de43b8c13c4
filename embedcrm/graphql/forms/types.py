"""GraphQL types of the site's forms."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import strawberry

from embedcrm.forms import models as forms
from embedcrm.graphql.ids import to_global_id

FormDisplay = strawberry.enum(
    forms.FormDisplay,
    name="FormDisplay",
    description="INLINE renders in place; POPUP opens from a button in place; FLOATING from a "
    "button fixed to the corner of the page.",
)

FormFieldType = strawberry.enum(forms.FieldType, name="FormFieldType")


@strawberry.type(description="A text in the languages the widget speaks.")
class LocalizedText:
    ru: str | None
    en: str | None

    @classmethod
    def of(cls, texts: Mapping[str, str]) -> LocalizedText:
        return cls(ru=texts.get("ru"), en=texts.get("en"))


@strawberry.type
class FormFieldOption:
    value: str
    label: LocalizedText


@strawberry.type
class FormField:
    name: str = strawberry.field(
        description="name, email, phone, message and company fill the contact and the lead; "
        "any other name is kept as a custom field."
    )
    type: FormFieldType  # type: ignore[valid-type]
    label: LocalizedText
    required: bool
    options: list[FormFieldOption]


@strawberry.type(description="A form of a site: rendered by the widget, checked at submission.")
class SiteForm:
    id: strawberry.ID
    site_id: strawberry.ID
    key: str
    display: FormDisplay  # type: ignore[valid-type]
    title: LocalizedText
    button_label: LocalizedText
    success_message: LocalizedText
    consent_text: LocalizedText
    fields: list[FormField]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: forms.SiteForm) -> SiteForm:
        return cls(
            id=strawberry.ID(to_global_id("SiteForm", row.workspace_id, row.id)),
            site_id=strawberry.ID(to_global_id("Site", row.workspace_id, row.site_id)),
            key=row.key,
            display=row.display,
            title=LocalizedText.of(row.title),
            button_label=LocalizedText.of(row.button_label),
            success_message=LocalizedText.of(row.success_message),
            consent_text=LocalizedText.of(row.consent_text),
            fields=[
                FormField(
                    name=f["name"],
                    type=forms.FieldType(f["type"]),
                    label=LocalizedText.of(f.get("label", {})),
                    required=bool(f.get("required")),
                    options=[
                        FormFieldOption(value=o["value"], label=LocalizedText.of(o["label"]))
                        for o in f.get("options", [])
                    ],
                )
                for f in row.fields
            ],
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
