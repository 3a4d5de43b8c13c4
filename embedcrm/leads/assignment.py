"""Who works a new lead: per-workspace rules, then a first-response task with a due time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.db import Database
from embedcrm.errors import ValidationFailed
from embedcrm.leads.models import AssignmentRule, AssignmentRuleKind
from embedcrm.leads.repository import AssignmentRuleRepository
from embedcrm.workspaces.repository import MemberRepository, SiteRepository


class Assigner:
    """Who works each new lead of a transaction: the member the first matching rule names,
    None when no rule matches. A rule that names a deactivated member is passed over, as
    round-robin passes them over. The rules and members are read once for all the leads."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self._rules = AssignmentRuleRepository(session, workspace_id)
        self._members = MemberRepository(session, workspace_id)
        self._ordered: list[AssignmentRule] | None = None
        self._active: dict[uuid.UUID, bool] = {}
        self._managers: list[uuid.UUID] | None = None

    async def choose(
        self, *, site_id: uuid.UUID | None, utm_source: str | None
    ) -> uuid.UUID | None:
        if self._ordered is None:
            self._ordered = await self._rules.ordered()
        for rule in self._ordered:
            if (
                rule.kind is AssignmentRuleKind.BY_SITE
                and rule.site_id == site_id
                and await self._is_active(rule.member_id)
            ):
                return rule.member_id
            if (
                rule.kind is AssignmentRuleKind.BY_SOURCE
                and utm_source is not None
                and (rule.utm_source or "").lower() == utm_source.lower()
                and await self._is_active(rule.member_id)
            ):
                return rule.member_id
            if rule.kind is AssignmentRuleKind.ROUND_ROBIN:
                if self._managers is None:
                    self._managers = [m.id for m in await self._members.active_managers()]
                if self._managers:
                    # Each lead takes its own turn: the cursor is advanced in the database.
                    turn = await self._rules.next_round_robin_turn()
                    return self._managers[(turn - 1) % len(self._managers)]
        return None

    async def _is_active(self, member_id: uuid.UUID | None) -> bool:
        if member_id is None:
            return False
        if member_id not in self._active:
            member = await self._members.get(member_id)
            self._active[member_id] = member is not None and member.active
        return self._active[member_id]


@dataclass(frozen=True)
class RuleSpec:
    kind: AssignmentRuleKind
    site_id: uuid.UUID | None = None
    utm_source: str | None = None
    member_id: uuid.UUID | None = None


class AssignmentService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def rules(self, workspace_id: uuid.UUID) -> list[AssignmentRule]:
        async with self.db.transaction() as session:
            return await AssignmentRuleRepository(session, workspace_id).ordered()

    async def set_rules(
        self, workspace_id: uuid.UUID, specs: Sequence[RuleSpec]
    ) -> list[AssignmentRule]:
        """Replace the workspace's rules with ``specs``, in that order."""
        for index, spec in enumerate(specs):
            field = f"rules.{index}"
            if spec.kind is AssignmentRuleKind.BY_SITE and (not spec.site_id or not spec.member_id):
                raise ValidationFailed("A BY_SITE rule names a site and a member.", field=field)
            if spec.kind is AssignmentRuleKind.BY_SOURCE and (
                not spec.utm_source or not spec.member_id
            ):
                raise ValidationFailed("A BY_SOURCE rule names a source and a member.", field=field)
        async with self.db.transaction() as session:
            members = MemberRepository(session, workspace_id)
            wanted = {s.member_id for s in specs if s.member_id}
            known = await members.get_many(wanted)
            if set(known) != wanted:
                raise ValidationFailed("No such member in this workspace.", field="rules")
            sites = {s.site_id for s in specs if s.site_id}
            if len(await SiteRepository(session, workspace_id).get_many(sites)) != len(sites):
                raise ValidationFailed("No such site in this workspace.", field="rules")
            rules = AssignmentRuleRepository(session, workspace_id)
            await rules.replace_all(
                [
                    AssignmentRule(
                        position=position,
                        kind=spec.kind,
                        site_id=spec.site_id if spec.kind is AssignmentRuleKind.BY_SITE else None,
                        utm_source=spec.utm_source
                        if spec.kind is AssignmentRuleKind.BY_SOURCE
                        else None,
                        member_id=None
                        if spec.kind is AssignmentRuleKind.ROUND_ROBIN
                        else spec.member_id,
                    )
                    for position, spec in enumerate(specs)
                ]
            )
            await session.flush()
            return await rules.ordered()
