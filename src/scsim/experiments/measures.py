"""Outcomes as SQL over one run's views (those of ``scsim query``), each returning one number.

``measure(run_dir, outcomes)`` evaluates every outcome on a finished run directory; a query that
fails, returns several columns or rows, or a value that is not a number raises ``MeasureError``
naming the outcome. NULL is kept as NaN (a mean over no rows is a result, not an error).
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

from scsim.experiments.spec import Outcome


class MeasureError(ValueError):
    """An outcome's SQL that cannot give one number on a run."""


def _number(name: str, value: object) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | Decimal):
        return float(value)
    raise MeasureError(
        f"outcomes.{name}: returned {type(value).__name__} {value!r}; expected a number"
    )


def measure(run_dir: Path, outcomes: dict[str, Outcome], allow_empty: bool = False) -> dict:
    """Each outcome's value on the run in ``run_dir``. With ``allow_empty`` a query that returns
    no row gives NaN (the check on a short pilot run, whose days may not include the asked one)."""
    import duckdb

    from scsim.runs import connect, short_message

    con = connect(run_dir)
    values: dict[str, float] = {}
    try:
        for name, outcome in outcomes.items():
            try:
                relation = con.sql(outcome.sql)
            except duckdb.Error as e:
                raise MeasureError(f"outcomes.{name}: {short_message(e)}") from None
            if relation is None:
                raise MeasureError(f"outcomes.{name}: is not a query; expected a SELECT")
            if len(relation.columns) != 1:
                raise MeasureError(
                    f"outcomes.{name}: returned {len(relation.columns)} columns "
                    f"({', '.join(relation.columns)}); expected one number"
                )
            try:
                rows = relation.limit(2).fetchall()
            except duckdb.Error as e:
                raise MeasureError(f"outcomes.{name}: {short_message(e)}") from None
            if len(rows) > 1:
                raise MeasureError(f"outcomes.{name}: returned several rows; expected one number")
            if not rows and not allow_empty:
                raise MeasureError(f"outcomes.{name}: returned no row; expected one number")
            values[name] = _number(name, rows[0][0]) if rows else math.nan
    finally:
        con.close()
    return values
