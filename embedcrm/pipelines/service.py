"""Pipelines and their stages, and moving leads through them (with history and events)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.db import Database
from embedcrm.errors import Conflict, NotFound, ValidationFailed
from embedcrm.leads.models import (
    Lead,
    LeadStageChange,
    LeadStatus,
)
from embedcrm.leads.moves import (
    leads_at_stages,
    leads_by_id,
    move_lead_to,
    restatus_leads_at,
    stage_history,
)
from embedcrm.pipelines.models import Pipeline, Stage, StageKind
from embedcrm.pipelines.repository import PipelineRepository, StageRepository
from embedcrm.workspaces.access import Actor, load_actor
from embedcrm.workspaces.models import Workspace
from embedcrm.workspaces.repository import WorkspaceDirectory
from embedcrm.workspaces.words import DEFAULT_LANGUAGE, word

MAX_BULK = 500


@dataclass(frozen=True)
class StageSpec:
    name: str
    probability: int
    kind: StageKind


def _name(value: str, field: str) -> str:
    value = value.strip()
    if not 0 < len(value) <= 200:
        raise ValidationFailed("A name of 1 to 200 characters is required.", field=field)
    return value


def _probability(value: int, field: str) -> int:
    if not 0 <= value <= 100:
        raise ValidationFailed("A probability is a percentage, 0 to 100.", field=field)
    return value


async def get_stage(
    session: AsyncSession, workspace_id: uuid.UUID, stage_id: uuid.UUID, field: str = "stageId"
) -> Stage:
    stage = await StageRepository(session, workspace_id).get(stage_id)
    if stage is None:
        raise NotFound("Nothing has this id.", field=field)
    return stage


async def stage_of(session: AsyncSession, lead: Lead) -> Stage:
    """The stage a lead stands on."""
    stage = await StageRepository(session, lead.workspace_id).get(lead.stage_id)
    assert stage is not None  # a lead's stage cannot be deleted under it
    return stage


async def default_entry_stage(
    session: AsyncSession, workspace_id: uuid.UUID
) -> tuple[Pipeline, Stage] | None:
    """Where a new lead starts: the first stage of the default pipeline, if there is one."""
    pipeline = await PipelineRepository(session, workspace_id).default()
    stage = await StageRepository(session, workspace_id).first_of(pipeline.id) if pipeline else None
    return None if pipeline is None or stage is None else (pipeline, stage)


def won_without_value(leads: Sequence[Lead]) -> list[int]:
    """Positions of the won leads that have no value: they add nothing to revenue, which the
    one who won them is told (a warning, not a refusal: the amount may come later)."""
    return [
        i for i, lead in enumerate(leads) if lead.status is LeadStatus.WON and lead.value is None
    ]


class PipelineService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_pipeline(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        name: str,
        stages: Sequence[StageSpec] | None,
    ) -> Pipeline:
        specs = list(stages or ())
        for i, spec in enumerate(specs):
            _name(spec.name, f"stages[{i}].name")
            _probability(spec.probability, f"stages[{i}].probability")
        if specs and not any(s.kind is StageKind.OPEN for s in specs):
            raise ValidationFailed("A pipeline needs at least one open stage.", field="stages")
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            if not specs:
                workspace = await WorkspaceDirectory(session).get(workspace_id)
                language = workspace.language if workspace else DEFAULT_LANGUAGE
                specs = [StageSpec(n, p, k) for n, p, k in default_stages(language)]
            pipelines = PipelineRepository(session, workspace_id)
            position = await pipelines.next_position()
            pipeline = pipelines.add(
                Pipeline(name=_name(name, "name"), position=position, is_default=False)
            )
            await session.flush()
            repo = StageRepository(session, workspace_id)
            for i, spec in enumerate(specs):
                repo.add(
                    Stage(
                        pipeline_id=pipeline.id,
                        name=spec.name.strip(),
                        position=i,
                        probability=spec.probability,
                        kind=spec.kind,
                    )
                )
            await session.flush()
            return pipeline

    async def update_pipeline(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        pipeline_id: uuid.UUID,
        *,
        name: str | None,
        position: int | None,
        make_default: bool,
    ) -> Pipeline:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id)
            pipelines = PipelineRepository(session, workspace_id)
            pipeline = await pipelines.get(pipeline_id)
            if pipeline is None:
                raise NotFound("Nothing has this id.", field="id")
            if name is not None:
                pipeline.name = _name(name, "name")
            if position is not None:
                ordered = [p for p in await pipelines.in_order() if p.id != pipeline.id]
                ordered.insert(max(0, min(position, len(ordered))), pipeline)
                for i, row in enumerate(ordered):
                    row.position = i
            if make_default:
                for row in await pipelines.in_order():
                    row.is_default = row.id == pipeline.id
            await session.flush()
            return pipeline

    async def delete_pipeline(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        pipeline_id: uuid.UUID,
        *,
        target_stage_id: uuid.UUID,
    ) -> None:
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            pipeline = await PipelineRepository(session, workspace_id).get(pipeline_id)
            if pipeline is None:
                raise NotFound("Nothing has this id.", field="id")
            if pipeline.is_default:
                raise Conflict(
                    "Make another pipeline the default before deleting this one.", field="id"
                )
            target = await get_stage(session, workspace_id, target_stage_id, "targetStageId")
            if target.pipeline_id == pipeline.id:
                raise ValidationFailed(
                    "The target stage must be in another pipeline.", field="targetStageId"
                )
            stages = await StageRepository(session, workspace_id).of_pipeline(pipeline.id)
            await self._move_all(session, actor, [s.id for s in stages], target)
            for stage in stages:
                await session.delete(stage)
            await session.flush()
            await session.delete(pipeline)

    async def _move_all(
        self, session: AsyncSession, actor: Actor, stage_ids: list[uuid.UUID], target: Stage
    ) -> None:
        stages = StageRepository(session, actor.workspace_id)
        for lead in await leads_at_stages(session, actor.workspace_id, stage_ids):
            before = await stages.get(lead.stage_id)
            await move_lead_to(session, actor, lead, target, before=before)
        await session.flush()

    async def create_stage(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        pipeline_id: uuid.UUID,
        *,
        spec: StageSpec,
        position: int | None,
    ) -> Stage:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="pipelineId")
            pipeline = await PipelineRepository(session, workspace_id).get(pipeline_id)
            if pipeline is None:
                raise NotFound("Nothing has this id.", field="pipelineId")
            repo = StageRepository(session, workspace_id)
            ordered = await repo.of_pipeline(pipeline_id)
            stage = repo.add(
                Stage(
                    pipeline_id=pipeline_id,
                    name=_name(spec.name, "name"),
                    position=0,
                    probability=_probability(spec.probability, "probability"),
                    kind=spec.kind,
                )
            )
            at = len(ordered) if position is None else max(0, min(position, len(ordered)))
            ordered.insert(at, stage)
            for i, row in enumerate(ordered):
                row.position = i
            await session.flush()
            return stage

    async def update_stage(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        stage_id: uuid.UUID,
        *,
        name: str | None,
        probability: int | None,
        kind: StageKind | None,
    ) -> Stage:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id)
            stage = await get_stage(session, workspace_id, stage_id, "id")
            if name is not None:
                stage.name = _name(name, "name")
            if probability is not None:
                stage.probability = _probability(probability, "probability")
            if kind is not None and kind is not stage.kind:
                # Leads at the stage keep a status that agrees with where they stand.
                stage.kind = kind
                await restatus_leads_at(session, workspace_id, stage)
            await session.flush()
            return stage

    async def reorder_stages(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        pipeline_id: uuid.UUID,
        stage_ids: Sequence[uuid.UUID],
    ) -> Pipeline:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="pipelineId")
            pipeline = await PipelineRepository(session, workspace_id).get(pipeline_id)
            if pipeline is None:
                raise NotFound("Nothing has this id.", field="pipelineId")
            repo = StageRepository(session, workspace_id)
            stages = {s.id: s for s in await repo.of_pipeline(pipeline_id)}
            if sorted(stage_ids) != sorted(stages) or len(set(stage_ids)) != len(stage_ids):
                raise ValidationFailed(
                    "List every stage of the pipeline exactly once.", field="stageIds"
                )
            for i, stage_id in enumerate(stage_ids):
                stages[stage_id].position = i
            await session.flush()
            return pipeline

    async def delete_stage(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        stage_id: uuid.UUID,
        *,
        target_stage_id: uuid.UUID,
    ) -> Pipeline:
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            stage = await get_stage(session, workspace_id, stage_id, "id")
            target = await get_stage(session, workspace_id, target_stage_id, "targetStageId")
            if target.id == stage.id:
                raise ValidationFailed("The target must be another stage.", field="targetStageId")
            siblings = await StageRepository(session, workspace_id).of_pipeline(stage.pipeline_id)
            remaining = [s for s in siblings if s.id != stage.id]
            if not any(s.kind is StageKind.OPEN for s in remaining):
                raise Conflict("A pipeline keeps at least one open stage.", field="id")
            await self._move_all(session, actor, [stage.id], target)
            await session.delete(stage)
            for i, row in enumerate(remaining):
                row.position = i
            await session.flush()
            pipeline = await PipelineRepository(session, workspace_id).get(stage.pipeline_id)
            assert pipeline is not None
            return pipeline

    async def move_leads(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        lead_ids: Sequence[uuid.UUID],
        stage_id: uuid.UUID,
        *,
        reason: str | None,
    ) -> list[Lead]:
        """Move one lead or many; all of them or, on any refusal, none."""
        if not 0 < len(lead_ids) <= MAX_BULK:
            raise ValidationFailed(f"Move 1 to {MAX_BULK} leads at a time.", field="leadIds")
        if reason is not None and len(reason) > 2000:
            raise ValidationFailed("The reason is at most 2000 characters.", field="reason")
        async with self.db.transaction() as session:
            actor = await load_actor(
                session, principal, workspace_id, field="leadIds" if len(lead_ids) > 1 else "leadId"
            )
            stage = await get_stage(session, workspace_id, stage_id)
            found = await leads_by_id(session, workspace_id, lead_ids)
            leads = []
            for i, lead_id in enumerate(lead_ids):
                lead = found.get(lead_id)
                if lead is None:
                    raise NotFound(
                        "Nothing has this id.",
                        field=f"leadIds[{i}]" if len(lead_ids) > 1 else "leadId",
                    )
                actor.require_assigned(lead.assignee_id, "lead")
                leads.append(lead)
            for lead in leads:
                before = await StageRepository(session, workspace_id).get(lead.stage_id)
                await move_lead_to(session, actor, lead, stage, before=before, reason=reason)
            await session.flush()
            return leads

    async def stage_history(
        self, workspace_id: uuid.UUID, lead_id: uuid.UUID
    ) -> list[LeadStageChange]:
        async with self.db.transaction() as session:
            return await stage_history(session, workspace_id, lead_id)

    async def pipeline(
        self, workspace_id: uuid.UUID, pipeline_id: uuid.UUID
    ) -> tuple[Pipeline, list[Stage]] | None:
        async with self.db.transaction() as session:
            pipeline = await PipelineRepository(session, workspace_id).get(pipeline_id)
            if pipeline is None:
                return None
            return pipeline, await StageRepository(session, workspace_id).of_pipeline(pipeline_id)

    async def stages_by_id(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Stage]:
        async with self.db.transaction() as session:
            return await StageRepository(session, workspace_id).get_many(ids)

    async def pipelines(self, workspace_id: uuid.UUID) -> list[tuple[Pipeline, list[Stage]]]:
        async with self.db.transaction() as session:
            rows = await PipelineRepository(session, workspace_id).in_order()
            all_stages = await StageRepository(session, workspace_id).in_order()
        return [(p, [s for s in all_stages if s.pipeline_id == p.id]) for p in rows]


# (name's key in workspaces.words, win probability in percent, kind): the pipeline every new
# workspace starts with, named in the workspace's language.
DEFAULT_STAGES = (
    ("stage.new", 10, StageKind.OPEN),
    ("stage.in_progress", 30, StageKind.OPEN),
    ("stage.proposal", 60, StageKind.OPEN),
    ("stage.won", 100, StageKind.WON),
    ("stage.lost", 0, StageKind.LOST),
)


def default_stages(language: str) -> list[tuple[str, int, StageKind]]:
    return [(word(language, key), probability, kind) for key, probability, kind in DEFAULT_STAGES]


async def create_default_pipeline(session: AsyncSession, workspace: Workspace) -> Pipeline:
    workspace_id = workspace.id
    pipeline = PipelineRepository(session, workspace_id).add(
        Pipeline(name=word(workspace.language, "pipeline.default"), position=0, is_default=True)
    )
    await session.flush()
    stages = StageRepository(session, workspace_id)
    for position, (name, probability, kind) in enumerate(default_stages(workspace.language)):
        stages.add(
            Stage(
                pipeline_id=pipeline.id,
                name=name,
                position=position,
                probability=probability,
                kind=kind,
            )
        )
    await session.flush()
    return pipeline


async def stages_of(
    session: AsyncSession, workspace_id: uuid.UUID, stage_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Stage]:
    return await StageRepository(session, workspace_id).get_many(stage_ids)


async def default_pipeline(session: AsyncSession, workspace_id: uuid.UUID) -> Pipeline | None:
    return await PipelineRepository(session, workspace_id).default()


async def default_pipeline_stages(session: AsyncSession, workspace_id: uuid.UUID) -> list[Stage]:
    """The stages of the default pipeline in board order; none when there is no default."""
    pipeline = await PipelineRepository(session, workspace_id).default()
    return await StageRepository(session, workspace_id).of_pipeline(pipeline.id) if pipeline else []


def add_stage(session: AsyncSession, workspace_id: uuid.UUID, stage: Stage) -> Stage:
    return StageRepository(session, workspace_id).add(stage)
