"""DataLoaders of pipelines, made per request."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from embedcrm.graphql.batching import Key, batched
from embedcrm.pipelines.models import Stage
from embedcrm.services import Services


def stages_loader(services: Services) -> DataLoader[Key, Stage | None]:
    """Stages by id: the stage each lead stands on."""
    return DataLoader(load_fn=batched(services.pipelines.stages_by_id))
