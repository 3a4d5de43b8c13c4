"""The services of the CRM the site owner works in, built together from one database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from embedcrm.crm.cards import CardService
from embedcrm.crm.fields import FieldService
from embedcrm.crm.importer import ImportService
from embedcrm.crm.merge import MergeService
from embedcrm.crm.pipelines import PipelineService
from embedcrm.crm.privacy import Eraser, PrivacyService
from embedcrm.crm.segments import ListService, SegmentService
from embedcrm.crm.tasks import TaskService
from embedcrm.db import Database


@dataclass(frozen=True)
class CrmWork:
    pipelines: PipelineService
    cards: CardService
    tasks: TaskService
    fields: FieldService
    lists: ListService
    segments: SegmentService
    merges: MergeService
    imports: ImportService
    privacy: PrivacyService

    @classmethod
    def create(cls, db: Database, *, erasers: Sequence[Eraser] = ()) -> CrmWork:
        lists = ListService(db)
        return cls(
            pipelines=PipelineService(db),
            cards=CardService(db),
            tasks=TaskService(db),
            fields=FieldService(db),
            lists=lists,
            segments=SegmentService(db, lists),
            merges=MergeService(db),
            imports=ImportService(db),
            privacy=PrivacyService(db, erasers),
        )
