"""GraphQL inputs and payloads of the site's forms."""

from __future__ import annotations

import strawberry

from embedcrm.forms import models as forms
from embedcrm.forms.service import FieldSpec, FormSpec, OptionSpec
from embedcrm.graphql.core import UserError
from embedcrm.graphql.forms.types import FormDisplay, FormFieldType, SiteForm


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


def texts_of(value: LocalizedTextInput | None) -> dict[str, str | None]:
    return {"ru": value.ru, "en": value.en} if value else {}


def form_spec(input: SaveSiteFormInput) -> FormSpec:
    return FormSpec(
        key=input.key.strip(),
        display=input.display,
        title=texts_of(input.title),
        button_label=texts_of(input.button_label),
        success_message=texts_of(input.success_message),
        consent_text=texts_of(input.consent_text),
        fields=[
            FieldSpec(
                name=f.name,
                type=f.type,
                label=texts_of(f.label),
                required=f.required,
                options=[
                    OptionSpec(value=o.value, label=texts_of(o.label)) for o in f.options or []
                ],
            )
            for f in input.fields
        ],
    )
