"""Write ``webhooks/schemas/<type>.json`` from the event classes.

``python -m embedcrm.events [DIRECTORY]``, from the repository root; a test compares the
committed files with what this writes. Schemas of types no longer in the catalog are left for a
person to delete: the names are public.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from embedcrm.events.catalog import ALL_EVENT_CLASSES, event_type_of
from embedcrm.events.schema import event_schema


def render(schema: dict[str, Any]) -> str:
    """The text of one schema file: two-space indents, non-ASCII kept, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def schema_files() -> dict[str, str]:
    """File name to text, one per event type of the catalog."""
    return {f"{event_type_of(cls)}.json": render(event_schema(cls)) for cls in ALL_EVENT_CLASSES}


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "webhooks/schemas")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in schema_files().items():
        (target / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(ALL_EVENT_CLASSES)} schemas to {target}")


if __name__ == "__main__":
    main()
