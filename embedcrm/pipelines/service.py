"""Pipelines and their stages, and moving leads through them (with history and events)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.db import Database, utcnow
from embedcrm.errors import Conflict, NotFound, ValidationFailed
from embedcrm.leads.events import emit_lead_event
from embedcrm.leads.models import (
    Activity,
    ActivityKind,
    Lead,
    LeadStageChange,
    LeadStatus,
    with_past_stage,
)
from embedcrm.leads.repository import ActivityRepository, LeadRepository, StageChangeRepository
from embedcrm.pipelines.models import Pipeline, Stage, StageKind
from embedcrm.pipelines.repository import PipelineRepository, StageRepository
from embedcrm.tasks.first_response import follow_lead_status
from embedcrm.workspaces.access import Actor, load_actor

MAX_BULK = 500
STATUS_OF_KIND = {
    StageKind.OPEN: LeadStatus.OPEN,
    StageKind.WON: LeadStatus.WON,
    StageKind.LOST: LeadStatus.LOST,
}


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


async def get_lead(
    session: AsyncSession, workspace_id: uuid.UUID, lead_id: uuid.UUID, field: str = "leadId"
) -> Lead:
    lead = await LeadRepository(session, workspace_id).get(lead_id)
    if lead is None:
        raise NotFound("Nothing has this id.", field=field)
    return lead


async def get_stage(
    session: AsyncSession, workspace_id: uuid.UUID, stage_id: uuid.UUID, field: str = "stageId"
) -> Stage:
    stage = await StageRepository(session, workspace_id).get(stage_id)
    if stage is None:
        raise NotFound("Nothing has this id.", field=field)
    return stage


def stand_lead_on(
    lead: Lead, before: Stage | None, stage: Stage, *, at: datetime, by: uuid.UUID | None
) -> LeadStageChange:
    """Put the lead on ``stage`` as of ``at`` and return the history row of the move, to add.

    The lead keeps when it entered its stage and the stages it stood in before, and the row
    when the stay it ends began, so that the reports never replay the history.
    """
    change = LeadStageChange(
        lead_id=lead.id,
        pipeline_id=stage.pipeline_id,
        from_stage_id=before.id if before else None,
        from_stage_name=before.name if before else None,
        to_stage_id=stage.id,
        to_stage_name=stage.name,
        changed_by_id=by,
        changed_at=at,
        created_at=at,
        entered_at=lead.stage_entered_at or lead.created_at,
        lead_created_at=lead.created_at,
    )
    lead.past_stages = with_past_stage(lead.past_stages, lead.stage_id)
    lead.stage_entered_at = at
    lead.pipeline_id = stage.pipeline_id
    lead.stage_id = stage.id
    lead.status = STATUS_OF_KIND[stage.kind]
    return change


async def move_lead_to(
    session: AsyncSession,
    actor: Actor,
    lead: Lead,
    stage: Stage,
    *,
    reason: str | None = None,
) -> bool:
    """Move one lead: history row, timeline entry and events. False when it is already there."""
    if lead.stage_id == stage.id:
        return False
    now = utcnow()
    before = await StageRepository(session, lead.workspace_id).get(lead.stage_id)
    status_before = lead.status
    StageChangeRepository(session, lead.workspace_id).add(
        stand_lead_on(lead, before, stage, at=now, by=actor.member_id)
    )
    # The reason belongs to the outcome: it goes when the lead is open again.
    closed = stage.kind is not StageKind.OPEN
    lead.close_reason = ((reason or "").strip() or None) if closed else None
    lead.updated_at = now
    if lead.status is not status_before:
        await follow_lead_status(session, lead, now=now)
    ActivityRepository(session, lead.workspace_id).add(
        Activity(
            contact_id=lead.contact_id,
            lead_id=lead.id,
            author_id=actor.member_id,
            kind=ActivityKind.STAGE_CHANGE,
            body=reason,
            data={
                "from_stage": {"id": str(before.id), "name": before.name} if before else None,
                "to_stage": {"id": str(stage.id), "name": stage.name},
                "reason": reason,
            },
            created_at=now,
        )
    )
    await session.flush()
    from_stage = {"id": str(before.id), "name": before.name} if before else None
    await emit_lead_event(
        session,
        lead,
        "lead.stage_changed",
        now=now,
        stage=stage,
        extra={"from_stage": from_stage, "to_stage": {"id": str(stage.id), "name": stage.name}},
    )
    if stage.kind is StageKind.WON:
        await emit_lead_event(
            session, lead, "lead.won", now=now, stage=stage, extra={"reason": reason}
        )
    elif stage.kind is StageKind.LOST:
        await emit_lead_event(
            session, lead, "lead.lost", now=now, stage=stage, extra={"reason": reason}
        )
    return True


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
        specs = list(stages) if stages else [StageSpec(n, p, k) for n, p, k in DEFAULT_STAGES]
        for i, spec in enumerate(specs):
            _name(spec.name, f"stages[{i}].name")
            _probability(spec.probability, f"stages[{i}].probability")
        if not any(s.kind is StageKind.OPEN for s in specs):
            raise ValidationFailed("A pipeline needs at least one open stage.", field="stages")
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
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
        leads = LeadRepository(session, actor.workspace_id)
        for lead_id in await leads.ids_at_stages(stage_ids):
            lead = await leads.get(lead_id)
            assert lead is not None
            await move_lead_to(session, actor, lead, target)
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
                leads = LeadRepository(session, workspace_id)
                for lead_id in await leads.ids_at_stages([stage.id]):
                    lead = await leads.get(lead_id)
                    assert lead is not None
                    if lead.status is not STATUS_OF_KIND[kind]:
                        lead.status = STATUS_OF_KIND[kind]
                        await follow_lead_status(session, lead, now=utcnow())
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
            found = await LeadRepository(session, workspace_id).get_many(lead_ids)
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
                await move_lead_to(session, actor, lead, stage, reason=reason)
            await session.flush()
            return leads

    async def stage_history(
        self, workspace_id: uuid.UUID, lead_id: uuid.UUID
    ) -> list[LeadStageChange]:
        async with self.db.transaction() as session:
            return await StageChangeRepository(session, workspace_id).of_lead(lead_id)

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


# (name, win probability in percent, kind): the pipeline every new workspace starts with.
DEFAULT_STAGES = (
    ("Новый", 10, StageKind.OPEN),
    ("В работе", 30, StageKind.OPEN),
    ("Предложение", 60, StageKind.OPEN),
    ("Успешно", 100, StageKind.WON),
    ("Отказ", 0, StageKind.LOST),
)


async def create_default_pipeline(session: AsyncSession, workspace_id: uuid.UUID) -> Pipeline:
    pipeline = PipelineRepository(session, workspace_id).add(
        Pipeline(name="Продажи", position=0, is_default=True)
    )
    await session.flush()
    stages = StageRepository(session, workspace_id)
    for position, (name, probability, kind) in enumerate(DEFAULT_STAGES):
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
