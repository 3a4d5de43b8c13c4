"""GraphQL for site forms: the definitions the widget renders and the server enforces."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.forms import mutations
from embedcrm.graphql.forms.types import FormField, FormFieldOption, LocalizedText, SiteForm
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.permissions import OwnerOnly


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
