"""What every domain's events carry besides their object."""

from __future__ import annotations

import uuid
from typing import Any


def scope_data(workspace_id: uuid.UUID, site_id: uuid.UUID | None) -> dict[str, Any]:
    return {"workspace_id": str(workspace_id), "site_id": str(site_id) if site_id else None}
