"""GraphQL types of pipelines, their stages, and moving leads between them."""

from __future__ import annotations

import strawberry

from embedcrm.errors import NotFound
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Node
from embedcrm.graphql.ids import GlobalId, to_global_id
from embedcrm.graphql.nodes import loads, loads_row
from embedcrm.pipelines import models as pipeline_models

StageKind = strawberry.enum(pipeline_models.StageKind, name="StageKind")


@strawberry.type
class Stage(Node):
    name: str
    position: int
    probability: int
    kind: StageKind  # type: ignore[valid-type]

    @classmethod
    def of(cls, row: pipeline_models.Stage | pipeline_models.StageRecord) -> Stage:
        return cls(
            id=strawberry.ID(to_global_id("Stage", row.workspace_id, row.id)),
            name=row.name,
            position=row.position,
            probability=row.probability,
            kind=row.kind,
        )


@strawberry.type
class Pipeline(Node):
    name: str
    is_default: bool
    stages: list[Stage]


def pipeline_type(row: pipeline_models.Pipeline, stages: list[pipeline_models.Stage]) -> Pipeline:
    return Pipeline(
        id=strawberry.ID(to_global_id("Pipeline", row.workspace_id, row.id)),
        name=row.name,
        is_default=row.is_default,
        stages=[Stage.of(s) for s in stages],
    )


async def reload_pipeline(info: Info, row: pipeline_models.Pipeline) -> Pipeline:
    found = await info.context.services.pipelines.pipeline(row.workspace_id, row.id)
    if found is None:
        raise NotFound("Nothing has this id.", field="id")
    return pipeline_type(*found)


@loads_row("Stage", Stage.of)
async def _stage(info: Info, gid: GlobalId) -> pipeline_models.Stage | None:
    return await info.context.loaders.stages.load((gid.workspace_id, gid.row_id))


@loads("Pipeline")
async def _pipeline(info: Info, gid: GlobalId) -> Pipeline | None:
    found = await info.context.services.pipelines.pipeline(gid.workspace_id, gid.row_id)
    return pipeline_type(*found) if found else None
