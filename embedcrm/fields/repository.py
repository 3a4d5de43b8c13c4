"""SQL of custom fields, tags and segments, bound to one workspace."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, delete, select

from embedcrm.fields.models import (
    ContactTag,
    CustomFieldDefinition,
    LeadTag,
    Segment,
    Tag,
)
from embedcrm.kit.repository import WorkspaceRepository


class FieldRepository(WorkspaceRepository[CustomFieldDefinition]):
    model = CustomFieldDefinition

    async def all(self) -> list[CustomFieldDefinition]:
        rows = await self.session.scalars(
            self.select().order_by(
                CustomFieldDefinition.entity,
                CustomFieldDefinition.position,
                CustomFieldDefinition.created_at,
            )
        )
        return list(rows)


class TagRepository(WorkspaceRepository[Tag]):
    model = Tag

    async def all(self) -> list[Tag]:
        return list(await self.session.scalars(self.select().order_by(Tag.name_folded)))

    async def by_names(self, names: Iterable[str]) -> dict[str, Tag]:
        folded = list({n.casefold() for n in names})
        if not folded:
            return {}
        rows = await self.session.scalars(self.select().where(Tag.name_folded.in_(folded)))
        return {row.name_folded: row for row in rows}

    async def lead_tag_ids(self, lead_ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, Tag]]:
        rows = await self.session.execute(
            select(LeadTag.lead_id, Tag)
            .join(Tag, and_(Tag.workspace_id == LeadTag.workspace_id, Tag.id == LeadTag.tag_id))
            .where(LeadTag.workspace_id == self.workspace_id, LeadTag.lead_id.in_(list(lead_ids)))
            .order_by(Tag.name_folded)
        )
        return [(row[0], row[1]) for row in rows]

    async def contact_tag_ids(
        self, contact_ids: Sequence[uuid.UUID]
    ) -> list[tuple[uuid.UUID, Tag]]:
        rows = await self.session.execute(
            select(ContactTag.contact_id, Tag)
            .join(
                Tag, and_(Tag.workspace_id == ContactTag.workspace_id, Tag.id == ContactTag.tag_id)
            )
            .where(
                ContactTag.workspace_id == self.workspace_id,
                ContactTag.contact_id.in_(list(contact_ids)),
            )
            .order_by(Tag.name_folded)
        )
        return [(row[0], row[1]) for row in rows]

    async def link(
        self,
        *,
        lead_ids: Sequence[uuid.UUID],
        contact_ids: Sequence[uuid.UUID],
        tag_ids: Sequence[uuid.UUID],
    ) -> None:
        ws = self.workspace_id
        existing_leads = set(
            (r[0], r[1])
            for r in await self.session.execute(
                select(LeadTag.lead_id, LeadTag.tag_id).where(
                    LeadTag.workspace_id == ws, LeadTag.lead_id.in_(list(lead_ids))
                )
            )
        )
        existing_contacts = set(
            (r[0], r[1])
            for r in await self.session.execute(
                select(ContactTag.contact_id, ContactTag.tag_id).where(
                    ContactTag.workspace_id == ws, ContactTag.contact_id.in_(list(contact_ids))
                )
            )
        )
        for tag_id in tag_ids:
            for lead_id in lead_ids:
                if (lead_id, tag_id) not in existing_leads:
                    self.session.add(LeadTag(workspace_id=ws, lead_id=lead_id, tag_id=tag_id))
            for contact_id in contact_ids:
                if (contact_id, tag_id) not in existing_contacts:
                    self.session.add(
                        ContactTag(workspace_id=ws, contact_id=contact_id, tag_id=tag_id)
                    )
        await self.session.flush()

    async def unlink(
        self,
        *,
        lead_ids: Sequence[uuid.UUID],
        contact_ids: Sequence[uuid.UUID],
        tag_ids: Sequence[uuid.UUID],
    ) -> None:
        ws = self.workspace_id
        if lead_ids:
            await self.session.execute(
                delete(LeadTag).where(
                    LeadTag.workspace_id == ws,
                    LeadTag.lead_id.in_(list(lead_ids)),
                    LeadTag.tag_id.in_(list(tag_ids)),
                )
            )
        if contact_ids:
            await self.session.execute(
                delete(ContactTag).where(
                    ContactTag.workspace_id == ws,
                    ContactTag.contact_id.in_(list(contact_ids)),
                    ContactTag.tag_id.in_(list(tag_ids)),
                )
            )

    async def move_contact_tags(self, source: uuid.UUID, target: uuid.UUID) -> list[str]:
        """Give ``target`` every tag of ``source``; answers the tag ids that were added."""
        ws = self.workspace_id
        source_tags = set(
            await self.session.scalars(
                select(ContactTag.tag_id).where(
                    ContactTag.workspace_id == ws, ContactTag.contact_id == source
                )
            )
        )
        target_tags = set(
            await self.session.scalars(
                select(ContactTag.tag_id).where(
                    ContactTag.workspace_id == ws, ContactTag.contact_id == target
                )
            )
        )
        added = sorted(source_tags - target_tags)
        for tag_id in added:
            self.session.add(ContactTag(workspace_id=ws, contact_id=target, tag_id=tag_id))
        await self.session.flush()
        return [str(t) for t in added]

    async def give_back_contact_tags(
        self, source: uuid.UUID, target: uuid.UUID, tag_ids: Sequence[uuid.UUID]
    ) -> None:
        """Undo of ``move_contact_tags``: the tags it added to ``source`` go to ``target``."""
        ws = self.workspace_id
        for tag_id in tag_ids:
            link = await self.session.get(ContactTag, (ws, source, tag_id))
            if link is not None:
                await self.session.delete(link)
            self.session.add(ContactTag(workspace_id=ws, contact_id=target, tag_id=tag_id))


class SegmentRepository(WorkspaceRepository[Segment]):
    model = Segment
