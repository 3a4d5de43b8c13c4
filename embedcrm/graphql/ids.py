"""Global ids as the GraphQL adapters use them; the encoding itself lives in embedcrm.ids, which
the webhook payloads share."""

from __future__ import annotations

from embedcrm.ids import GlobalId, parse_global_id, to_global_id

__all__ = ["GlobalId", "parse_global_id", "to_global_id"]
