"""python -m examples.site [--host H] [--port P] [--crm URL] [--state DIR]"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn

from examples.site.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.site", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--crm", default="http://127.0.0.1:8000", help="embedcrm's URL")
    parser.add_argument(
        "--state", type=Path, default=Path(".example-site"), help="where the builder keeps its data"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per GraphQL call is noise
    app = create_app(
        crm_url=args.crm, public_url=f"http://{args.host}:{args.port}", state_dir=args.state
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
