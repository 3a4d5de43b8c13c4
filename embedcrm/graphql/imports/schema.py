"""GraphQL queries and mutations of importing leads from a CSV export."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.imports import mutations
from embedcrm.graphql.permissions import OwnerOnly


@strawberry.type
class ImportMutation:
    preview_csv_import = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.preview_csv_import.resolve,
        description="Encoding, delimiter, headers and the suggested column mapping.",
    )

    import_csv = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.import_csv.resolve,
        description="Import contacts or leads; a dry run (the default) writes nothing.",
    )
