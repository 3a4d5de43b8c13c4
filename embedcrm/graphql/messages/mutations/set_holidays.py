"""The set_holidays mutation: the days clients are greeted on, replacing the list."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.messages.inputs import HolidaysPayload, SetHolidaysInput
from embedcrm.graphql.messages.resolvers import holiday_types
from embedcrm.graphql.support import user_errors_in, workspace_arg


@user_errors_in(HolidaysPayload)
async def resolve(info: Info, input: SetHolidaysInput) -> HolidaysPayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    days = await ctx.services.templates.set_holidays(
        ctx.principal, workspace, [(day.date, day.name) for day in input.holidays]
    )
    return HolidaysPayload(holidays=holiday_types(days))
