"""The top-level contracts stay in step with the code (ARCHITECTURE.md, "The shape")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema as parse_sdl
from graphql import parse, validate

from embedcrm.db import Base
from embedcrm.graphql.schema import print_schema

ROOT = Path(__file__).resolve().parent.parent


def test_exported_schema_matches_the_code() -> None:
    exported = (ROOT / "schema" / "schema.graphql").read_text()
    assert exported == print_schema() + "\n", "run: python -m embedcrm.graphql.export"


@pytest.mark.parametrize(
    "operation", sorted((ROOT / "schema" / "operations").glob("*.graphql")), ids=lambda p: p.name
)
def test_every_shipped_operation_is_valid(operation: Path) -> None:
    schema = parse_sdl((ROOT / "schema" / "schema.graphql").read_text())
    assert validate(schema, parse(operation.read_text())) == []


# Tables above the tenant boundary, and the one routing key anonymous visitors look up by.
# platform_webhook_endpoints: the host's platform-wide endpoints receive every workspace's events
# and belong to none, so they sit beside platform_keys; deliveries to them stay workspace-owned
# and point up to them directly, the way every table points up to workspaces.
NOT_WORKSPACE_OWNED = {
    "workspaces",
    "platform_keys",
    "alembic_version",
    "platform_webhook_endpoints",
}
GLOBAL_UNIQUE_ALLOWED = {("sites", ("public_key",))}


def test_the_workspace_is_part_of_every_key() -> None:
    import embedcrm.models  # noqa: F401

    for table in Base.metadata.sorted_tables:
        if table.name in NOT_WORKSPACE_OWNED:
            continue
        assert "workspace_id" in table.c, table.name
        assert "workspace_id" in table.primary_key.columns, f"{table.name}: primary key"
        for fk in table.foreign_key_constraints:
            if fk.referred_table.name in NOT_WORKSPACE_OWNED:
                continue
            columns = [c.name for c in fk.columns]
            assert columns[0] == "workspace_id", f"{table.name}: {columns} -> {fk.referred_table}"
            assert fk.elements[0].column.name == "workspace_id"
        for constraint in table.constraints:
            if constraint.__class__.__name__ != "UniqueConstraint":
                continue
            columns = tuple(c.name for c in constraint.columns)
            if (table.name, columns) in GLOBAL_UNIQUE_ALLOWED:
                continue
            assert "workspace_id" in columns, f"{table.name}: unique {columns}"
        # A unique index, too: distributed by workspace_id (docs/operations.md), a uniqueness
        # that does not include it could not be enforced across nodes.
        for index in table.indexes:
            columns = tuple(c.name for c in index.columns)
            if index.unique and (table.name, columns) not in GLOBAL_UNIQUE_ALLOWED:
                assert "workspace_id" in columns, f"{table.name}: unique index {columns}"


# Passed by `serve` to the processes it starts, never set by an operator.
INTERNAL_VARIABLES = {"EMBEDCRM_SERVE_OPTIONS"}


@pytest.mark.parametrize("document", ["docs/operations.md", "README.md"])
def test_every_setting_is_in_the_settings_tables(document: str) -> None:
    """A variable the code reads and no settings table lists is a setting nobody can find."""
    read = {
        name
        for source in (ROOT / "embedcrm").rglob("*.py")
        for name in re.findall(r'"(EMBEDCRM_[A-Z_]+)"', source.read_text())
    }
    listed = set(re.findall(r"^\| `(EMBEDCRM_[A-Z_]+)` \|", (ROOT / document).read_text(), re.M))
    assert read - INTERNAL_VARIABLES - listed == set()
