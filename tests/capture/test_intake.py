"""The group commit's statement on PostgreSQL names every column itself (no ORM defaults)."""

from __future__ import annotations

from embedcrm.capture.intake import COLUMNS, INSERT_UNNEST
from embedcrm.capture.models import Submission


def test_the_batch_insert_sets_every_column_of_a_submission() -> None:
    """A column added to the model with a Python-side default would be left NULL by the
    statement the driver runs; it must be named there (and in CaptureService._store)."""
    assert set(COLUMNS) == {column.name for column in Submission.__table__.columns}
    assert len(COLUMNS) == len(set(COLUMNS))
    for n, name in enumerate(COLUMNS, start=1):
        assert name in INSERT_UNNEST and f"${n}::" in INSERT_UNNEST
