"""The package's public API: what `import embedcrm` promises, and nothing it does not name."""

from __future__ import annotations

import uuid

import embedcrm
import embedcrm.errors


def test_every_public_name_is_there() -> None:
    for name in embedcrm.__all__:
        assert getattr(embedcrm, name) is not None, name
    assert callable(embedcrm.create_app)


def test_the_whole_error_tree_is_public() -> None:
    tree = {
        name
        for name, value in vars(embedcrm.errors).items()
        if isinstance(value, type) and issubclass(value, embedcrm.EmbedCRMError)
    }
    assert tree <= set(embedcrm.__all__)


def test_the_panel_token_helper_round_trips() -> None:
    tokens = embedcrm.PanelTokens(["k" * 40], max_ttl_seconds=600)
    user = embedcrm.PanelUser(
        workspace_id=uuid.uuid4(), member_id=uuid.uuid4(), role=embedcrm.Role.MANAGER
    )
    token, _ = tokens.issue(user, ttl_seconds=60)
    assert tokens.read(token) == user
