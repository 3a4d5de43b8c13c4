"""Global ids: one id per object across the API and webhooks, opaque to clients, carrying the
type, the workspace and the row id.

GraphQL returns them, ``node(id:)`` accepts them, and webhook payloads carry them, so this
module sits at the bottom of the layers, where both the GraphQL adapters and the domains'
event builders can use it. The encoding is unpadded base64url of ``Type:<workspace hex>:<row
hex>``; clients must not rely on it, but a host migrating stored dashed UUIDs can compute it.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass

from embedcrm.errors import NotFound


@dataclass(frozen=True)
class GlobalId:
    type_name: str
    workspace_id: uuid.UUID
    row_id: uuid.UUID

    def encode(self) -> str:
        return to_global_id(self.type_name, self.workspace_id, self.row_id)


def to_global_id(type_name: str, workspace_id: uuid.UUID, row_id: uuid.UUID) -> str:
    # Made straight from the UUIDs' integers (``.hex`` is a property that formats them alike):
    # a page of 50 leads makes about 100 ids, and a GlobalId made for each cost more than the
    # text itself.
    raw = f"{type_name}:{workspace_id.int:032x}:{row_id.int:032x}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def optional_global_id(
    type_name: str, workspace_id: uuid.UUID, row_id: uuid.UUID | None
) -> str | None:
    return None if row_id is None else to_global_id(type_name, workspace_id, row_id)


def workspace_global_id(workspace_id: uuid.UUID) -> str:
    """A workspace is its own workspace: its id names it twice."""
    return to_global_id("Workspace", workspace_id, workspace_id)


def parse_global_id(value: str, *, expected: str | None = None, field: str = "id") -> GlobalId:
    """Decode an id; anything malformed or of another type is simply "not found"."""
    try:
        padded = value + "=" * (-len(value) % 4)
        type_name, workspace, row = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        parsed = GlobalId(type_name, uuid.UUID(hex=workspace), uuid.UUID(hex=row))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise NotFound("Nothing has this id.", field=field) from exc
    if expected is not None and parsed.type_name != expected:
        raise NotFound("Nothing has this id.", field=field)
    return parsed


def row_id_in_event(value: object) -> uuid.UUID | None:
    """The row an event's id names: a global id, or the dashed UUID of an event recorded
    before payloads carried global ids. None for no id."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return parse_global_id(value).row_id
