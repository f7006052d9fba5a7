"""Citizen search for the explorer: which citizens of a run match some filters, one page of
them, reading only the columns the filters need and the row groups that hold the page.

Runs are opened by ``scsim.runs.open_run`` and citizens looked up by ``scsim.lookup.lookup``;
people.parquet is ordered by citizen id, so a citizen's row number is its id.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scsim.runs import Run

SUMMARY_COLUMNS = ("citizen", "score", "listed", "wrongful", "region")
"""People columns a search result shows (those the run has)."""


def people_columns(run: Run) -> list[str]:
    """The columns of the run's people.parquet."""
    return pq.read_schema(run.file("people")).names


def people_rows(run: Run, rows: np.ndarray, columns: list[str]) -> pa.Table:
    """People rows by row number (= citizen id), reading only the row groups that hold them."""
    f = pq.ParquetFile(run.file("people"))
    sizes = [f.metadata.row_group(g).num_rows for g in range(f.num_row_groups)]
    starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    group_of = np.searchsorted(starts, rows, side="right") - 1
    groups = np.unique(group_of)
    table = f.read_row_groups(groups.tolist(), columns=columns)
    base = np.concatenate([[0], np.cumsum(np.diff(starts)[groups])[:-1]])
    local = base[np.searchsorted(groups, group_of)] + rows - starts[group_of]
    return table.take(pa.array(local))


def _mask(run: Run, filters: dict[str, Any]) -> np.ndarray | None:
    """Which citizens match the filters (None: every citizen), reading only their columns."""
    mask = None
    wanted = {k: v for k, v in filters.items() if v is not None and k != "audited"}
    if wanted:
        table = pq.read_table(run.file("people"), columns=list(wanted))
        for name, value in wanted.items():
            hit = np.asarray(table[name].to_numpy(zero_copy_only=False) == value)
            mask = hit if mask is None else mask & hit
    if filters.get("audited"):
        audited = np.zeros(run.n, dtype=np.bool_)
        if run.audit_stride:
            audited[:: run.audit_stride][: run.audit_size] = True
        mask = audited if mask is None else mask & audited
    return mask


def _rows(run: Run, rows: np.ndarray) -> list[dict[str, Any]]:
    columns = [c for c in SUMMARY_COLUMNS if c in people_columns(run)]
    found = people_rows(run, rows, columns).to_pylist() if rows.size else []
    for row in found:
        row["audited"] = run.audited(row["citizen"])
    return found


def search(run: Run, filters: dict[str, Any], page: int, size: int) -> dict[str, Any]:
    """One page of the citizens matching ``filters`` (column name -> value, plus ``audited``),
    in id order, with their score and flags, and how many match in all."""
    mask = _mask(run, filters)
    if mask is None:
        total = run.n
        rows = np.arange(page * size, min((page + 1) * size, total), dtype=np.int64)
    else:
        matches = np.flatnonzero(mask)
        total = int(matches.size)
        rows = matches[page * size : (page + 1) * size].astype(np.int64)
    return {"total": total, "page": page, "size": size, "citizens": _rows(run, rows)}


def citizen_summary(run: Run, citizen: int) -> dict[str, Any]:
    """One citizen as a search result (a page of one)."""
    rows = _rows(run, np.array([citizen], dtype=np.int64))
    return {"total": 1, "page": 0, "size": 1, "citizens": rows}
