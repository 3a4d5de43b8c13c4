"""GraphQL for site forms: the definitions the widget renders and the server enforces."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import strawberry

from embedcrm.forms import models as forms
from embedcrm.forms.service import FieldSpec, FormSpec, OptionSpec
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import UserError
from embedcrm.graphql.ids import parse_global_id, to_global_id
from embedcrm.graphql.support import as_payload

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


@strawberry.input
class LocalizedTextInput:
    ru: str | None = None
    en: str | None = None


@strawberry.input
class FormFieldOptionInput:
    value: str
    label: LocalizedTextInput | None = None


@strawberry.input
class FormFieldInput:
    name: str
    type: FormFieldType = forms.FieldType.TEXT  # type: ignore[valid-type]
    label: LocalizedTextInput | None = None
    required: bool = False
    options: list[FormFieldOptionInput] | None = strawberry.field(
        default=None, description="For SELECT only: the values a visitor may choose."
    )


@strawberry.input(description="The whole form: saving replaces the site's form with this key.")
class SaveSiteFormInput:
    site_id: strawberry.ID
    key: str = strawberry.field(
        description='The value of data-embedcrm-render="…" or data-embedcrm="…" on the page.'
    )
    fields: list[FormFieldInput] = strawberry.field(description="In the order they are shown.")
    display: FormDisplay = forms.FormDisplay.INLINE  # type: ignore[valid-type]
    title: LocalizedTextInput | None = None
    button_label: LocalizedTextInput | None = None
    success_message: LocalizedTextInput | None = None
    consent_text: LocalizedTextInput | None = strawberry.field(
        default=None, description="When set, the visitor must tick a consent box to send."
    )


@strawberry.type
class SaveSiteFormPayload:
    site_form: SiteForm | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeleteSiteFormInput:
    site_id: strawberry.ID
    key: str


@strawberry.type
class DeleteSiteFormPayload:
    deleted_key: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _texts(value: LocalizedTextInput | None) -> dict[str, str | None]:
    return {"ru": value.ru, "en": value.en} if value else {}


def form_spec(input: SaveSiteFormInput) -> FormSpec:
    return FormSpec(
        key=input.key.strip(),
        display=input.display,
        title=_texts(input.title),
        button_label=_texts(input.button_label),
        success_message=_texts(input.success_message),
        consent_text=_texts(input.consent_text),
        fields=[
            FieldSpec(
                name=f.name,
                type=f.type,
                label=_texts(f.label),
                required=f.required,
                options=[OptionSpec(value=o.value, label=_texts(o.label)) for o in f.options or []],
            )
            for f in input.fields
        ],
    )


@strawberry.type
class FormQuery:
    @strawberry.field(description="The forms configured for a site, by key.")
    async def site_forms(self, info: Info, site_id: strawberry.ID) -> list[SiteForm]:
        site = parse_global_id(site_id, expected="Site", field="siteId")
        rows = await info.context.services.forms.site_forms(
            info.context.principal, site.workspace_id, site.row_id
        )
        return [SiteForm.of(row) for row in rows]


@strawberry.type
class FormMutation:
    @strawberry.mutation(
        description="Create or replace the site's form with this key (the platform or an OWNER)."
    )
    async def save_site_form(self, info: Info, input: SaveSiteFormInput) -> SaveSiteFormPayload:
        context = info.context

        async def call() -> forms.SiteForm:
            site = parse_global_id(input.site_id, expected="Site", field="siteId")
            return await context.services.forms.save(
                context.principal, site.workspace_id, site.row_id, form_spec(input)
            )

        return await as_payload(
            call,
            lambda row: SaveSiteFormPayload(site_form=SiteForm.of(row)),
            lambda errors: SaveSiteFormPayload(user_errors=errors),
        )

    @strawberry.mutation(description="Remove a site's form (the platform or an OWNER).")
    async def delete_site_form(
        self, info: Info, input: DeleteSiteFormInput
    ) -> DeleteSiteFormPayload:
        context = info.context

        async def call() -> forms.SiteForm:
            site = parse_global_id(input.site_id, expected="Site", field="siteId")
            return await context.services.forms.delete(
                context.principal, site.workspace_id, site.row_id, input.key
            )

        return await as_payload(
            call,
            lambda row: DeleteSiteFormPayload(deleted_key=row.key),
            lambda errors: DeleteSiteFormPayload(user_errors=errors),
        )


TYPES = [SiteForm, LocalizedText, FormField, FormFieldOption]
