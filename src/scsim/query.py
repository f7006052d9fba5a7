"""SQL over run directories (``scsim query``): run one query on the views of
``scsim.runs.connect`` and keep up to a limit of rows, counting the rest."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from rich.markup import escape
from rich.table import Table

from scsim.runs import Run, connect, short_message


class QueryError(ValueError):
    """SQL that DuckDB refused or failed to run; the message is DuckDB's, shortened."""


@dataclass(frozen=True)
class QueryResult:
    """A query's column names, its first rows and how many rows were left off."""

    columns: list[str]
    rows: list[tuple]
    omitted: int


def _connect(runs: Run | str | Path | Iterable[Run | str | Path]) -> Any:
    """The views of a sweep directory (one given) or of run directories."""
    if isinstance(runs, list | tuple) and len(runs) == 1:
        runs = runs[0]
    if isinstance(runs, str | Path):
        from scsim.experiments.sweep import SweepError, connect_sweep, is_sweep

        if is_sweep(runs):
            try:
                return connect_sweep(runs)
            except SweepError as e:
                raise QueryError(str(e)) from None
    return connect(runs)


def run_query(
    runs: Run | str | Path | Iterable[Run | str | Path], sql: str, limit: int | None = None
) -> QueryResult:
    """Run ``sql`` over the runs' views; keep the first ``limit`` rows (all when None)."""
    import duckdb

    con = _connect(runs)
    try:
        relation = con.sql(sql)
        if relation is None:  # a statement without a result (SET, CREATE ...)
            return QueryResult([], [], 0)
        columns = list(relation.columns)
        rows: list[tuple] = []
        omitted = 0
        for batch in relation.to_arrow_reader():
            room = batch.num_rows if limit is None else max(0, limit - len(rows))
            if room:
                kept = batch.slice(0, room)
                rows.extend(zip(*(c.to_pylist() for c in kept.columns), strict=True))
            omitted += batch.num_rows - min(room, batch.num_rows)
        return QueryResult(columns, rows, omitted)
    except duckdb.Error as e:
        raise QueryError(short_message(e)) from None
    finally:
        con.close()


def plain(value: Any) -> Any:
    """A value as JSON has it: NaN and infinities as null, decimals as numbers, times as ISO
    text, containers element by element."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def plain_json(value: Any, **options: Any) -> str:
    """``json.dumps(plain(value), **options)`` for a value with string keys, without first
    walking it in Python when JSON's encoder can take it as it is (a look-up with per-friend
    attribution holds ~10^5 values: the walk took ~50 ms of a ~100 ms explorer request)."""

    def unsupported(item: Any) -> Any:
        converted = plain(item)
        if converted is item:
            raise TypeError(f"{type(item).__name__} is not JSON serialisable")
        return converted

    try:
        return json.dumps(value, allow_nan=False, default=unsupported, **options)
    except ValueError:  # NaN or an infinity somewhere: JSON has null for them
        return json.dumps(plain(value), **options)


def to_json(result: QueryResult) -> str:
    """The rows as one JSON array of objects (column name to value)."""
    return json.dumps(
        [dict(zip(result.columns, map(plain, row), strict=True)) for row in result.rows]
    )


def write_csv(result: QueryResult, stream: IO[str]) -> None:
    """The rows as CSV with a header line."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if v is None else _text(plain(v)) for v in row])


def _text(value: Any) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.7g}"
    return _text(plain(value))


def to_table(result: QueryResult) -> Table:
    """The rows as a rich table (floats to 7 significant digits)."""
    table = Table(*result.columns, box=None, padding=(0, 1), header_style="bold")
    for row in result.rows:
        table.add_row(*(escape(_cell(v)) for v in row))
    return table
