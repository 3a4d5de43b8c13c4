"""node and the npm packages package-lock.json pins, for the tests that run JavaScript tools.

Missing either fails the test, never skips it: scripts/test installs them with `npm ci`."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def node_binary() -> str:
    node = shutil.which("node")
    assert node, "node is not on PATH; scripts/test needs it"
    return node


def require_package(name: str) -> Path:
    package = ROOT / "node_modules" / name
    assert (package / "package.json").exists(), (
        f"node_modules/{name} is missing: run `npm ci --no-audit --no-fund`"
    )
    return package
