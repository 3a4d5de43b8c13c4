"""The set_commission_rules mutation: a manager's commission rules, replaced (owner only)."""

from __future__ import annotations

from embedcrm.commission.service import RuleSpec
from embedcrm.graphql.commission.inputs import CommissionRulesPayload, SetCommissionRulesInput
from embedcrm.graphql.commission.types import CommissionRule
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import parse_decimal, parse_id, user_errors_in


@user_errors_in(CommissionRulesPayload)
async def resolve(info: Info, input: SetCommissionRulesInput) -> CommissionRulesPayload:
    ctx = info.context
    gid = parse_id(input.member_id, "Member", "memberId")
    specs = [
        RuleSpec(
            basis=rule.basis,
            percent=parse_decimal(rule.percent, f"rules[{n}].percent"),
            starts_on=rule.starts_on,
            ends_on=rule.ends_on,
        )
        for n, rule in enumerate(input.rules)
    ]
    rows = await ctx.services.commission.set_rules(
        ctx.principal, gid.workspace_id, gid.row_id, specs
    )
    return CommissionRulesPayload(rules=[CommissionRule.of(row) for row in rows])
