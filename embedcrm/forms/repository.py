"""SQL for site forms, bound to one workspace like every repository."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from embedcrm.forms.models import SiteForm
from embedcrm.kit.repository import WorkspaceRepository


class SiteFormRepository(WorkspaceRepository[SiteForm]):
    model = SiteForm

    async def for_site(self, site_id: uuid.UUID) -> Sequence[SiteForm]:
        rows = await self.session.scalars(
            self.select().where(SiteForm.site_id == site_id).order_by(SiteForm.key)
        )
        return list(rows)

    async def by_key(self, site_id: uuid.UUID, key: str) -> SiteForm | None:
        result = await self.session.scalars(
            self.select().where(SiteForm.site_id == site_id, SiteForm.key == key)
        )
        return result.first()

    async def remove(self, row: SiteForm) -> None:
        await self.session.delete(row)
