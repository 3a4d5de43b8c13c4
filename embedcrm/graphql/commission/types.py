"""GraphQL types of commission and workload: money as decimal strings."""

from __future__ import annotations

import uuid
from datetime import date

import strawberry

from embedcrm.commission import models as commission_models
from embedcrm.graphql.ids import to_global_id

CommissionBasis = strawberry.enum(
    commission_models.CommissionBasis,
    name="CommissionBasis",
    description="PAID_REVENUE: a share of what was paid; MARGIN: of the paid margin, over "
    "the invoice lines whose cost is known.",
)


def member_gid(workspace_id: uuid.UUID, member_id: uuid.UUID | None) -> strawberry.ID | None:
    return (
        None
        if member_id is None
        else strawberry.ID(to_global_id("Member", workspace_id, member_id))
    )


@strawberry.type(description="A manager's rate over a period of payment dates (days included).")
class CommissionRule:
    member_id: strawberry.ID
    basis: CommissionBasis  # type: ignore[valid-type]
    percent: str
    starts_on: date
    ends_on: date | None

    @classmethod
    def of(cls, row: commission_models.CommissionRule) -> CommissionRule:
        gid = member_gid(row.workspace_id, row.member_id)
        assert gid is not None
        return cls(
            member_id=gid,
            basis=row.basis,
            percent=str(row.percent),
            starts_on=row.starts_on,
            ends_on=row.ends_on,
        )


@strawberry.type(description="Commission a manager accrued on the payments of a period.")
class CommissionAccrual:
    member_id: strawberry.ID
    name: str
    payments: int
    paid: str
    margin: str = strawberry.field(description="The margin those payments carried.")
    commission: str


@strawberry.type(description="What a member has on their hands; memberId null: nobody's.")
class MemberWorkload:
    member_id: strawberry.ID | None
    name: str | None
    open_leads: int
    open_tasks: int
    overdue_tasks: int
