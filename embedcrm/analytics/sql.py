"""The few places where SQLite and PostgreSQL need different SQL for analytics, kept together.

Everything else in the reports is plain SQL both databases run alike;
tests/analytics/test_forms_and_sql.py checks these helpers on whichever database the suite runs
against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from sqlalchemy import Float, Select, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause


def seconds_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    """``later - earlier`` in seconds, as a float.

    SQLite keeps timestamps as UTC text, which ``julianday`` reads; PostgreSQL subtracts
    ``timestamptz`` values into an interval.
    """
    if dialect == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0, Float)


def percentiles(
    values: FromClause,
    *,
    group: Sequence[str],
    value: str,
    fractions: Mapping[str, Fraction],
    dialect: str,
) -> Select[Any]:
    """Continuous percentiles (PostgreSQL's ``percentile_cont``) per group, on both databases.

    PostgreSQL computes them itself. SQLite has no ordered-set aggregates, so there the values
    are ranked with window functions and the two neighbours of each percentile's position are
    interpolated. The position ``(n - 1) * p`` is kept in integer arithmetic (``p`` as a
    fraction) so that its floor is an integer division, which truncates alike on both
    databases (a cast would round on PostgreSQL).
    """
    keys = [values.c[name] for name in group]
    v = values.c[value]
    if dialect == "postgresql":
        # percentile_cont leaves NULLs out, as the ranked form below does.
        native = [
            func.percentile_cont(float(p)).within_group(v).label(label)
            for label, p in fractions.items()
        ]
        return select(*keys, *native).where(v.is_not(None)).group_by(*keys)
    ranked = (
        select(
            *keys,
            v.label("v"),
            (func.row_number().over(partition_by=keys, order_by=v) - 1).label("i"),
            func.count().over(partition_by=keys).label("n"),
        )
        .where(v.is_not(None))
        .subquery("ranked")
    )
    columns: list[ColumnElement[Any]] = []
    for label, p in fractions.items():
        scaled = (ranked.c.n - 1) * p.numerator
        low_index = scaled // p.denominator
        weight = cast(scaled % p.denominator, Float) / float(p.denominator)
        low = func.max(case((ranked.c.i == low_index, ranked.c.v)))
        high = func.max(case((ranked.c.i == low_index + 1, ranked.c.v)))
        # No upper neighbour means the position falls exactly on the last value.
        columns.append((low + (func.coalesce(high, low) - low) * func.max(weight)).label(label))
    group_keys = [ranked.c[name] for name in group]
    return select(*group_keys, *columns).group_by(*group_keys)


def upsert_adding(
    dialect: str,
    table: Any,
    row: Mapping[str, Any],
    *,
    keys: Sequence[str],
    add: Sequence[str],
) -> Any:
    """INSERT the row, or add its ``add`` columns to the row already there: one statement.

    Both databases spell ``ON CONFLICT … DO UPDATE`` the same way, but SQLAlchemy builds it
    with each dialect's own ``insert``.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(table).values(**row)
        return pg.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: table.c[name] + pg.excluded[name] for name in add},
        )
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    lite = sqlite_insert(table).values(**row)
    return lite.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + lite.excluded[name] for name in add},
    )
