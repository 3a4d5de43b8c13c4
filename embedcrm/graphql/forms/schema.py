"""GraphQL for site forms: the definitions the widget renders and the server enforces."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.forms import mutations, resolvers
from embedcrm.graphql.forms.types import FormField, FormFieldOption, LocalizedText, SiteForm
from embedcrm.graphql.permissions import OwnerOnly


@strawberry.type
class FormQuery:
    site_forms = strawberry.field(
        resolver=resolvers.site_forms, description="The forms configured for a site, by key."
    )


@strawberry.type
class FormMutation:
    save_site_form = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.save_site_form.resolve,
        description="Create or replace the site's form with this key (the platform or an OWNER).",
    )

    delete_site_form = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.delete_site_form.resolve,
        description="Remove a site's form (the platform or an OWNER).",
    )


TYPES = [SiteForm, LocalizedText, FormField, FormFieldOption]
