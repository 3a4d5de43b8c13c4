"""Write schema/schema.graphql from the code: ``python -m embedcrm.graphql.export [PATH]``."""

from __future__ import annotations

import sys
from pathlib import Path

from embedcrm.graphql.schema import print_schema


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "schema/schema.graphql")
    target.write_text(print_schema() + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
