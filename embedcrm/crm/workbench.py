"""The services of the CRM the site owner works in, built together from one database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from embedcrm.contacts.merge import MergeService
from embedcrm.db import Database
from embedcrm.fields.segments import ListService, SegmentService
from embedcrm.fields.service import FieldService
from embedcrm.imports.service import ImportService
from embedcrm.leads.service import CardService
from embedcrm.pipelines.service import PipelineService
from embedcrm.privacy.service import Eraser, PrivacyService
from embedcrm.tasks.service import TaskService


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
