"""The embedcrm command, run as a user runs it, on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "embedcrm", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def fresh_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBEDCRM_")}
    env["EMBEDCRM_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'crm.db'}"
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_platform_key_create_prints_the_key_alone_on_the_last_line(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    result = run_cli("platform-key", "create", "--name", "host", env=env)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("ecp_") and " " not in key
    # No key given: a development key is made beside the SQLite file, with a warning.
    assert (tmp_path / "crm.db.secret").exists()
    assert "EMBEDCRM_SECRET_KEYS is not set" in result.stderr


def test_serve_migrates_a_fresh_sqlite_file_and_answers(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "embedcrm", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert ready is not None and ready.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        key = run_cli("platform-key", "create", "--name", "n", env=env).stdout.splitlines()[-1]
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ ping }"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.json() == {"data": {"ping": "pong"}}
        # With no EMBEDCRM_PUBLIC_URL, the snippet points at the port actually served.
        site = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": 'mutation { createWorkspace(input: {name: "w"}) { workspace { id } } }'},
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        workspace_id = site["data"]["createWorkspace"]["workspace"]["id"]
        created = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={
                "query": 'mutation($ws: ID!) { createSite(input: {workspaceId: $ws, name: "s",'
                ' domains: ["example.com"]}) { site { embedSnippet } } }',
                "variables": {"ws": workspace_id},
            },
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        snippet = created["data"]["createSite"]["site"]["embedSnippet"]
        assert f'src="http://127.0.0.1:{port}/widget/' in snippet, snippet
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def last_line_of(program: str, tmp_path: Path) -> Any:
    """The JSON ``program`` prints last, run by a Python process of its own."""
    done = subprocess.run(
        [sys.executable, "-c", program],
        env=fresh_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_the_serving_process_freezes_its_startup_heap_and_collects_less_often(
    tmp_path: Path,
) -> None:
    # The app `serve` builds, in a process of its own (the settings are the process's).
    program = (
        "import gc, json\n"
        "from embedcrm.cli import _app\n"
        "from embedcrm.config import Settings\n"
        "before = gc.get_threshold()\n"
        "_app(Settings.from_env(), "
        "{'public_url': 'http://127.0.0.1:9', 'dispatcher': False, 'jobs': False})\n"
        "print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count()]))\n"
    )
    before, after, frozen = last_line_of(program, tmp_path)
    assert before[0] == 700  # Python's default
    assert after == [50_000, 20, 10]
    # Modules, the schema and the mappers: far more than any request keeps.
    assert frozen > 100_000


def test_the_worker_prepares_its_heap_as_the_serving_process_does(tmp_path: Path) -> None:
    # `embedcrm worker` as a process of its own; its loop only reports what it found.
    program = (
        "import gc, json, sys\n"
        "import embedcrm.worker\n"
        "from embedcrm import cli\n"
        "async def report(settings):\n"
        "    print(json.dumps([gc.get_threshold(), gc.get_freeze_count()]))\n"
        "embedcrm.worker.run_worker = report\n"
        "sys.exit(cli.main(['worker']))\n"
    )
    threshold, frozen = last_line_of(program, tmp_path)
    # Making leads in batches left about 0.3 ms of collector CPU a lead at Python's default.
    assert threshold == [50_000, 20, 10]
    assert frozen > 100_000


def test_migrate_reports_a_server_database_it_cannot_reach(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    env["EMBEDCRM_DATABASE_URL"] = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    env["EMBEDCRM_SECRET_KEYS"] = "k"
    result = run_cli("migrate", env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "database" in result.stderr.lower()


def test_a_server_database_needs_real_keys(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    env["EMBEDCRM_DATABASE_URL"] = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    assert "EMBEDCRM_SECRET_KEYS is required" in result.stderr


def test_two_commands_on_a_fresh_file_migrate_it_once(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    env["EMBEDCRM_SECRET_KEYS"] = "k"
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "embedcrm", "platform-key", "create", "--name", f"n{i}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        assert out.strip().splitlines()[-1].startswith("ecp_")


DATA = Path(__file__).resolve().parent / "data"


def test_import_csv_dry_run_then_commit_then_again(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    env["EMBEDCRM_SECRET_KEYS"] = "k"
    make_workspace = (
        "import asyncio, uuid\n"
        "from embedcrm.auth import Platform\n"
        "from embedcrm.config import Settings\n"
        "from embedcrm.migrations import upgrade_to_head\n"
        "from embedcrm.services import Services\n"
        "settings = Settings.from_env()\n"
        "upgrade_to_head(settings)\n"
        "async def main():\n"
        "    services = Services.create(settings)\n"
        "    await services.workspaces.create_workspace(\n"
        "        Platform(key_id=uuid.uuid4()), name='shop', external_id='acc-1')\n"
        "    await services.db.dispose()\n"
        "asyncio.run(main())\n"
    )
    made = subprocess.run(
        [sys.executable, "-c", make_workspace],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    csv_file = str(DATA / "leads-export-cp1251.csv")
    base = ("import-csv", csv_file, "--workspace", "acc-1")
    dry = run_cli(*base, env=env)
    assert dry.returncode == 1  # rows refused, nothing written
    assert "301" in dry.stderr and "302" in dry.stderr and "1251" in dry.stderr
    assert "would import (dry run)" in dry.stderr
    done = run_cli(*base, "--commit", "--skip-invalid", env=env)
    assert done.returncode == 0, done.stderr
    assert "imported: 300 leads new" in done.stderr
    again = run_cli(
        "import-csv",
        str(DATA / "leads-export-utf8.csv"),
        "--workspace",
        "acc-1",
        "--commit",
        "--skip-invalid",
        env=env,
    )
    assert "imported: 0 leads new, 300 already there" in again.stderr
    unknown = run_cli("import-csv", csv_file, "--workspace", "nobody", env=env)
    assert unknown.returncode == 2 and "nobody" in unknown.stderr


def test_settings_are_read_from_the_environment() -> None:
    from embedcrm.config import Settings

    settings = Settings.from_env(
        {
            "EMBEDCRM_DATABASE_URL": "postgresql+asyncpg://u@h/db",
            "EMBEDCRM_SECRET_KEYS": "old, new",
            "EMBEDCRM_PUBLIC_URL": "https://crm.example.com/",
            "EMBEDCRM_WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/8",
            "EMBEDCRM_WEBHOOK_TIMEOUT_SECONDS": "20",
            "EMBEDCRM_WEBHOOK_LEASE_SECONDS": "90",
            "EMBEDCRM_WEBHOOK_CONCURRENCY": "16",
            "EMBEDCRM_WEBHOOK_ENDPOINT_CONCURRENCY": "8",
            "EMBEDCRM_RATE_LIMIT_VISITOR": "",
            "EMBEDCRM_PROCESS_INLINE": "0",
        }
    )
    assert settings.secret_keys == ("old", "new")
    assert settings.public_url == "https://crm.example.com"
    assert settings.webhook_allowed_networks == "10.0.0.0/8"
    assert (settings.webhook_timeout_seconds, settings.webhook_lease_seconds) == (20.0, 90.0)
    assert (settings.webhook_concurrency, settings.webhook_endpoint_concurrency) == (16, 8)
    assert settings.rate_limit_per_visitor == "" and settings.rate_limit_per_site == "600/minute"
    assert settings.process_submissions_inline is False


def test_serve_alone_runs_the_scheduled_jobs(tmp_path: Path) -> None:
    """The embedded default is whole: `serve` with no worker still raises task.overdue."""
    env = fresh_env(tmp_path)
    env["EMBEDCRM_SECRET_KEYS"] = "k"
    port = free_port()
    key = run_cli("platform-key", "create", "--name", "n", env=env).stdout.splitlines()[-1]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "embedcrm", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    headers = {"Authorization": f"Bearer {key}"}

    def gql(query: str, **variables: object) -> dict[str, Any]:
        answer = httpx.post(url, json={"query": query, "variables": variables}, headers=headers)
        body: dict[str, Any] = answer.json()
        assert "errors" not in body, body
        return body["data"]

    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        workspace = gql('mutation { createWorkspace(input: {name: "w"}) { workspace { id } } }')
        ws = workspace["createWorkspace"]["workspace"]["id"]
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        gql(
            "mutation($ws: ID!, $due: DateTime!) { createTask(input: {workspaceId: $ws,"
            ' title: "Перезвонить", dueAt: $due}) { task { id } } }',
            ws=ws,
            due=past,
        )
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "task.overdue" not in seen:
            events = gql(
                "query($ws: ID!) { events(first: 50, workspaceId: $ws) { edges { node { type } } } }",
                ws=ws,
            )
            seen = [e["node"]["type"] for e in events["events"]["edges"]]
            time.sleep(0.5)
        assert "task.overdue" in seen, seen
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
