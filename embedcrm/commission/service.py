"""Commission rules per manager, the commission they accrued, and the staff's workload.

A payment earns its manager (the assignee of the invoice's lead) the rate of the rule that
covers the payment's date: a percentage of the amount paid, or of the margin that amount
carries (the invoice's margin over its lines of known cost, in proportion to the share of the
invoice paid). Each payment's commission is rounded to the kopeck, then summed.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from embedcrm.auth import Principal
from embedcrm.commission.models import CommissionBasis, CommissionRule
from embedcrm.commission.repository import CommissionRepository, PaidShare, Workload
from embedcrm.db import Database, utcnow
from embedcrm.errors import Forbidden, ValidationFailed
from embedcrm.kit.money import to_cents
from embedcrm.workspaces.access import Actor, get_member, load_actor
from embedcrm.workspaces.models import Role
from embedcrm.workspaces.repository import MemberRepository

MAX_RULES = 50


@dataclass(frozen=True)
class RuleSpec:
    basis: CommissionBasis
    percent: Decimal
    starts_on: date
    ends_on: date | None = None


@dataclass(frozen=True)
class Accrual:
    member_id: uuid.UUID
    name: str
    payments: int
    paid: Decimal
    margin: Decimal
    commission: Decimal


@dataclass(frozen=True)
class WorkloadRow:
    member_id: uuid.UUID | None
    name: str | None
    open_leads: int
    open_tasks: int
    overdue_tasks: int


def checked_rules(rules: Sequence[RuleSpec]) -> list[RuleSpec]:
    if len(rules) > MAX_RULES:
        raise ValidationFailed(f"At most {MAX_RULES} rules per manager.", field="rules")
    ordered = sorted(rules, key=lambda r: r.starts_on)
    for i, rule in enumerate(ordered):
        if not rule.percent.is_finite() or not 0 <= rule.percent <= 100:
            raise ValidationFailed("A percentage from 0 to 100.", field=f"rules[{i}].percent")
        if rule.ends_on is not None and rule.ends_on < rule.starts_on:
            raise ValidationFailed("A rule ends after it starts.", field=f"rules[{i}].endsOn")
        previous_end = ordered[i - 1].ends_on if i else None
        if i and (previous_end is None or previous_end >= rule.starts_on):
            raise ValidationFailed(
                "Rules of one manager may not overlap: one rate per day.",
                field=f"rules[{i}].startsOn",
            )
    return [
        RuleSpec(r.basis, r.percent.quantize(Decimal("0.01")), r.starts_on, r.ends_on)
        for r in ordered
    ]


def commission_of(share: PaidShare, rules: Sequence[CommissionRule]) -> tuple[Decimal, Decimal]:
    """(margin carried, commission) of one payment under the manager's rules."""
    day = share.paid_at.date()
    margin = (
        to_cents(share.invoice_margin * share.amount / share.invoice_total)
        if share.invoice_margin is not None and share.invoice_total
        else Decimal("0.00")
    )
    for rule in rules:
        if rule.starts_on <= day and (rule.ends_on is None or day <= rule.ends_on):
            base = share.amount if rule.basis is CommissionBasis.PAID_REVENUE else margin
            return margin, to_cents(base * rule.percent / 100)
    return margin, Decimal("0.00")


class CommissionService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_rules(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        member_id: uuid.UUID,
        rules: Sequence[RuleSpec],
    ) -> list[CommissionRule]:
        """Replace a manager's rules (OWNER)."""
        checked = checked_rules(rules)
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="memberId")
            await get_member(session, workspace_id, member_id, "memberId")
            repo = CommissionRepository(session, workspace_id)
            await repo.clear(member_id)
            now = utcnow()
            written = [
                repo.add(
                    CommissionRule(
                        member_id=member_id,
                        basis=r.basis,
                        percent=r.percent,
                        starts_on=r.starts_on,
                        ends_on=r.ends_on,
                        created_at=now,
                    )
                )
                for r in checked
            ]
            await session.flush()
            return written

    async def rules(
        self, principal: Principal, workspace_id: uuid.UUID, member_id: uuid.UUID | None
    ) -> list[CommissionRule]:
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="workspaceId")
            member_id = _own_scope(actor, member_id)
            return await CommissionRepository(session, workspace_id).rules_of(member_id)

    async def accrued(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        starts: datetime,
        ends: datetime,
        member_id: uuid.UUID | None = None,
    ) -> list[Accrual]:
        """Commission accrued on the payments received in [starts, ends), per manager. An
        owner sees everyone's; a manager their own only."""
        if ends <= starts:
            raise ValidationFailed("The period must end after it starts.", field="ends")
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="workspaceId")
            member_id = _own_scope(actor, member_id)
            repo = CommissionRepository(session, workspace_id)
            shares = await repo.paid_shares(starts, ends, member_id)
            rules = await repo.rules_of(member_id)
            names = {
                m.id: m.name
                for m in (
                    await MemberRepository(session, workspace_id).get_many(
                        {s.member_id for s in shares} | {r.member_id for r in rules}
                    )
                ).values()
            }
        by_member: dict[uuid.UUID, list[CommissionRule]] = {}
        for rule in rules:
            by_member.setdefault(rule.member_id, []).append(rule)
        totals: dict[uuid.UUID, list[Decimal]] = {}
        counts: dict[uuid.UUID, int] = {}
        for share in shares:
            margin, commission = commission_of(share, by_member.get(share.member_id, []))
            paid, margins, accrued = totals.setdefault(share.member_id, [Decimal("0.00")] * 3)
            totals[share.member_id] = [paid + share.amount, margins + margin, accrued + commission]
            counts[share.member_id] = counts.get(share.member_id, 0) + 1
        return sorted(
            (
                Accrual(
                    member_id=member,
                    name=names.get(member) or "",
                    payments=counts[member],
                    paid=paid,
                    margin=margin,
                    commission=commission,
                )
                for member, (paid, margin, commission) in totals.items()
            ),
            key=lambda a: (-a.commission, a.name),
        )

    async def accrued_csv(
        self, principal: Principal, workspace_id: uuid.UUID, starts: datetime, ends: datetime
    ) -> tuple[str, int]:
        rows = await self.accrued(principal, workspace_id, starts, ends)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["member_id", "name", "payments", "paid", "margin", "commission"])
        for row in rows:
            writer.writerow(
                [row.member_id, row.name, row.payments, row.paid, row.margin, row.commission]
            )
        return out.getvalue(), len(rows)

    async def workload(self, principal: Principal, workspace_id: uuid.UUID) -> list[WorkloadRow]:
        """Open leads, open and overdue tasks per member (and of nobody), busiest first."""
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            rows: list[Workload] = await CommissionRepository(session, workspace_id).workload(
                utcnow()
            )
            members = await MemberRepository(session, workspace_id).get_many(
                r.member_id for r in rows if r.member_id
            )
        return sorted(
            (
                WorkloadRow(
                    member_id=r.member_id,
                    name=members[r.member_id].name if r.member_id in members else None,
                    open_leads=r.open_leads,
                    open_tasks=r.open_tasks,
                    overdue_tasks=r.overdue_tasks,
                )
                for r in rows
            ),
            key=lambda r: (-(r.open_leads + r.open_tasks), r.name or ""),
        )


def _own_scope(actor: Actor, member_id: uuid.UUID | None) -> uuid.UUID | None:
    """A manager sees their own commission only; a viewer none; an owner anyone's."""
    if actor.role is Role.VIEWER:
        raise Forbidden("A viewer does not see commission.")
    if actor.role is Role.MANAGER:
        if member_id is not None and member_id != actor.member_id:
            raise Forbidden("A manager sees their own commission only.")
        return actor.member_id
    return member_id
