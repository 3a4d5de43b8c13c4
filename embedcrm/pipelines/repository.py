"""SQL of pipelines and stages, bound to one workspace."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.pipelines.models import Pipeline, Stage


class PipelineRepository(WorkspaceRepository[Pipeline]):
    model = Pipeline

    async def default(self) -> Pipeline | None:
        result = await self.session.scalars(
            self.select().where(Pipeline.is_default.is_(True)).limit(1)
        )
        return result.first()

    async def in_order(self) -> list[Pipeline]:
        stmt = self.select().order_by(Pipeline.position, Pipeline.created_at)
        return list(await self.session.scalars(stmt))

    async def next_position(self) -> int:
        """The position after the last pipeline's: where a new one goes."""
        last = await self.session.scalar(
            select(func.max(Pipeline.position)).where(Pipeline.workspace_id == self.workspace_id)
        )
        return 0 if last is None else int(last) + 1


class StageRepository(WorkspaceRepository[Stage]):
    model = Stage

    async def first_of(self, pipeline_id: uuid.UUID) -> Stage | None:
        result = await self.session.scalars(
            self.select().where(Stage.pipeline_id == pipeline_id).order_by(Stage.position).limit(1)
        )
        return result.first()

    async def of_pipeline(self, pipeline_id: uuid.UUID) -> list[Stage]:
        """The stages of one pipeline, in board order."""
        stmt = self.select().where(Stage.pipeline_id == pipeline_id).order_by(Stage.position)
        return list(await self.session.scalars(stmt))

    async def in_order(self) -> list[Stage]:
        """Every stage of the workspace, in board order within each pipeline."""
        return list(await self.session.scalars(self.select().order_by(Stage.position)))
