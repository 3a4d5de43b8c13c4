"""GraphQL inputs and payloads of pipelines, their stages, and moving leads between them."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.core import UserError
from embedcrm.graphql.pipelines.types import Pipeline, Stage, StageKind
from embedcrm.leads import models as lead_models
from embedcrm.pipelines import models as pipeline_models
from embedcrm.pipelines.service import won_without_value


@strawberry.type
class PipelinePayload:
    pipeline: Pipeline | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StagePayload:
    stage: Stage | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class StageInput:
    name: str
    probability: int = 0
    kind: StageKind = pipeline_models.StageKind.OPEN  # type: ignore[valid-type]


@strawberry.input
class CreatePipelineInput:
    name: str
    stages: list[StageInput] | None = strawberry.field(
        default=None, description="Omit for the standard stages."
    )
    workspace_id: strawberry.ID | None = None


@strawberry.input
class UpdatePipelineInput:
    id: strawberry.ID
    name: str | None = None
    position: int | None = None
    make_default: bool = False


@strawberry.input
class DeletePipelineInput:
    id: strawberry.ID
    target_stage_id: strawberry.ID = strawberry.field(description="Where its leads go.")


@strawberry.input
class CreateStageInput:
    pipeline_id: strawberry.ID
    name: str
    probability: int = 0
    kind: StageKind = pipeline_models.StageKind.OPEN  # type: ignore[valid-type]
    position: int | None = None


@strawberry.input
class UpdateStageInput:
    id: strawberry.ID
    name: str | None = None
    probability: int | None = None
    kind: StageKind | None = None  # type: ignore[valid-type]


@strawberry.input
class ReorderStagesInput:
    pipeline_id: strawberry.ID
    stage_ids: list[strawberry.ID]


@strawberry.input
class DeleteStageInput:
    id: strawberry.ID
    target_stage_id: strawberry.ID = strawberry.field(description="Where its leads go.")


@strawberry.input
class MoveLeadInput:
    lead_id: strawberry.ID
    stage_id: strawberry.ID
    reason: str | None = strawberry.field(default=None, description="Why it was won or lost.")


@strawberry.input
class BulkMoveLeadsInput:
    lead_ids: list[strawberry.ID]
    stage_id: strawberry.ID
    reason: str | None = None


NO_VALUE = "Won with no value: it adds nothing to revenue until a value or a cart is set."


def no_value_warnings(leads: list[lead_models.Lead], field: str) -> list[UserError]:
    return [
        UserError(field=field.format(i=i), message=NO_VALUE, code="won_without_value")
        for i in won_without_value(leads)
    ]
