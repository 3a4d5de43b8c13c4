"""SQL of the erasure records, bound to one workspace."""

from __future__ import annotations

from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.privacy.models import Erasure


class ErasureRepository(WorkspaceRepository[Erasure]):
    model = Erasure
