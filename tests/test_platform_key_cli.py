"""`embedcrm platform-key list / revoke / rotate`, run as an operator runs them, and what the
service then accepts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_cli import fresh_env, run_cli

from embedcrm.config import Settings
from embedcrm.errors import Unauthenticated
from embedcrm.services import Services


def created_key(env: dict[str, str], name: str) -> str:
    result = run_cli("platform-key", "create", "--name", name, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def listed(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """The rows of `platform-key list` by name."""
    result = run_cli("platform-key", "list", env=env)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.strip().splitlines()
    columns = header.split("\t")
    assert columns == ["id", "name", "prefix", "created", "state"]
    return {row.split("\t")[1]: dict(zip(columns, row.split("\t"), strict=True)) for row in rows}


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[dict[str, str], Services]]:
    """The CLI's environment, and the service as a fresh server process on the same file sees it."""
    env = fresh_env(tmp_path)
    created_key(env, "bootstrap")  # migrates the fresh file
    services = Services.create(
        Settings(secret_keys=("a-secret-for-tests",), database_url=env["EMBEDCRM_DATABASE_URL"])
    )
    yield env, services
    await services.db.dispose()


async def works(services: Services, key: str) -> bool:
    try:
        await services.workspaces.authenticate(key)
    except Unauthenticated:
        return False
    return True


async def test_list_shows_keys_but_never_their_secrets(
    database: tuple[dict[str, str], Services],
) -> None:
    env, _ = database
    first = created_key(env, "production")
    second = created_key(env, "staging")
    rows = listed(env)
    assert set(rows) == {"bootstrap", "production", "staging"}
    assert rows["production"]["prefix"] == first[:8]
    assert rows["staging"]["state"] == "active"
    output = run_cli("platform-key", "list", env=env).stdout
    assert first not in output and second not in output
    assert first[8:20] not in output


async def test_a_revoked_key_stops_working(database: tuple[dict[str, str], Services]) -> None:
    env, services = database
    doomed = created_key(env, "leaked")
    kept = created_key(env, "kept")
    assert await works(services, doomed)
    key_id = listed(env)["leaked"]["id"]

    result = run_cli("platform-key", "revoke", key_id, env=env)
    assert result.returncode == 0, result.stderr
    assert key_id in result.stdout
    assert listed(env)["leaked"]["state"].startswith("revoked ")
    # A process that has not seen the key recently refuses it at once.
    services.workspaces._platform_keys.clear()
    assert not await works(services, doomed)
    assert await works(services, kept)
    # Revoking again changes nothing and says so without an error.
    assert run_cli("platform-key", "revoke", key_id, env=env).returncode == 0

    # Revoked through this process, a cached key stops at once too.
    assert await works(services, kept)
    await services.workspaces.revoke_platform_key(uuid.UUID(listed(env)["kept"]["id"]))
    assert not await works(services, kept)


async def test_revoke_refuses_what_is_not_a_key(database: tuple[dict[str, str], Services]) -> None:
    env, _ = database
    unknown = run_cli("platform-key", "revoke", "00000000-0000-0000-0000-000000000000", env=env)
    assert unknown.returncode == 1 and "No platform key has this id" in unknown.stderr
    junk = run_cli("platform-key", "revoke", "not-an-id", env=env)
    assert junk.returncode == 2 and "not a key id" in junk.stderr


async def test_rotation_keeps_the_old_key_working_until_the_overlap_ends(
    database: tuple[dict[str, str], Services],
) -> None:
    env, services = database
    old = created_key(env, "host")
    old_id = listed(env)["host"]["id"]

    result = run_cli("platform-key", "rotate", old_id, "--overlap-hours", "2", env=env)
    assert result.returncode == 0, result.stderr
    new = result.stdout.strip().splitlines()[-1]
    assert new.startswith("ecp_") and new != old
    assert "works until" in result.stdout
    assert await works(services, old) and await works(services, new)
    rows = [row.split("\t") for row in run_cli("platform-key", "list", env=env).stdout.splitlines()]
    states = {row[0]: row[4] for row in rows[1:]}
    assert states[old_id].startswith("expires ")
    [new_id] = [row[0] for row in rows[1:] if row[2] == new[:8]]
    assert states[new_id] == "active"

    # Rotating the new key with no overlap ends it at once; its successor works.
    again = run_cli("platform-key", "rotate", new_id, "--overlap-hours", "0", env=env)
    assert again.returncode == 0, again.stderr
    newest = again.stdout.strip().splitlines()[-1]
    services.workspaces._platform_keys.clear()
    assert not await works(services, new)
    assert await works(services, newest) and await works(services, old)
    # An ended key cannot be rotated again.
    ended = run_cli("platform-key", "rotate", new_id, env=env)
    assert ended.returncode == 1 and "no longer works" in ended.stderr
