"""The set_assignment_rules mutation: replace the workspace's assignment rules (OWNER)."""

from __future__ import annotations

from embedcrm.graphql.capture.inputs import SetAssignmentRulesInput, SetAssignmentRulesPayload
from embedcrm.graphql.capture.types import AssignmentRule
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import optional_id, user_errors_in
from embedcrm.leads.assignment import RuleSpec
from embedcrm.workspaces.access import reader_workspace


@user_errors_in(SetAssignmentRulesPayload)
async def resolve(info: Info, input: SetAssignmentRulesInput) -> SetAssignmentRulesPayload:
    context = info.context
    workspace = parse_global_id(input.workspace_id, expected="Workspace", field="workspaceId")
    reader_workspace(context.principal, workspace.row_id, field="workspaceId")
    specs = []
    for index, rule in enumerate(input.rules):
        site = optional_id(rule.site_id, "Site", f"rules.{index}.siteId")
        member = optional_id(rule.member_id, "Member", f"rules.{index}.memberId")
        specs.append(
            RuleSpec(
                kind=rule.kind,
                site_id=site.row_id if site else None,
                utm_source=rule.utm_source,
                member_id=member.row_id if member else None,
            )
        )
    return SetAssignmentRulesPayload(
        rules=[
            AssignmentRule.of(r)
            for r in await context.services.assignment.set_rules(workspace.row_id, specs)
        ]
    )
