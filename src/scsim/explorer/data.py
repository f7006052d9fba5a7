"""Read-only access to run directories for the explorer: open and check a run, search its
citizens, and look one citizen up.

A narrow adapter until ``scsim.runs`` / ``scsim.lookup`` land: it reads the parquet files with
pyarrow, only the row groups (and columns) a request needs. Nothing here writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REQUIRED = ("manifest.json", "people.parquet", "events.parquet", "audit.parquet")
SUMMARY_COLUMNS = ("citizen", "score", "listed", "wrongful", "region")


class RunError(ValueError):
    """A run directory that does not exist or is incomplete."""


@dataclass
class RunData:
    """One complete run directory, opened read-only."""

    path: Path
    manifest: dict[str, Any]
    columns: tuple[str, ...] = ()
    group_starts: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64), repr=False)

    @property
    def name(self) -> str:
        """The run directory's name."""
        return self.path.name

    @property
    def n(self) -> int:
        """Number of citizens."""
        return int(self.manifest["n"])

    @property
    def days(self) -> int:
        """Number of days simulated."""
        return int(self.manifest["days"])

    @property
    def components(self) -> list[str]:
        """Score components, in the order of the ``part_<component>`` columns."""
        return list(self.manifest.get("components", []))

    @property
    def audit_stride(self) -> int:
        """Citizens 0, stride, 2 * stride, ... are audited (0: nobody is)."""
        return int(self.manifest.get("audit", {}).get("stride", 0))

    @property
    def audit_size(self) -> int:
        """Number of audited citizens."""
        return int(self.manifest.get("audit", {}).get("sample", 0))

    def audited(self, citizen: int) -> bool:
        """True if ``citizen`` is in the audit sample (its events and daily scores are kept)."""
        stride = self.audit_stride
        return stride > 0 and citizen % stride == 0 and citizen // stride < self.audit_size


def open_run(path: str | Path) -> RunData:
    """Open a complete run directory, or raise ``RunError`` saying what is wrong."""
    path = Path(path)
    if not path.is_dir():
        partial = path.with_name(path.name + ".partial")
        if partial.is_dir():
            raise RunError(f"{str(path)!r} is incomplete: only {str(partial)!r} exists")
        raise RunError(f"{str(path)!r} is not a run directory (it does not exist)")
    missing = [f for f in REQUIRED if not (path / f).is_file()]
    if missing:
        raise RunError(f"{str(path)!r} is not a complete run directory: missing {missing}")
    try:
        manifest = json.loads((path / "manifest.json").read_text())
        int(manifest["n"]), int(manifest["days"])
        people = pq.ParquetFile(path / "people.parquet")
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as e:
        raise RunError(f"{str(path)!r}: cannot read its manifest or people ({e})") from None
    if people.metadata.num_rows != int(manifest["n"]):
        raise RunError(f"{str(path)!r}: people.parquet does not hold the manifest's n citizens")
    sizes = [people.metadata.row_group(g).num_rows for g in range(people.num_row_groups)]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return RunData(path, manifest, tuple(people.schema_arrow.names), starts)


def people_rows(run: RunData, rows: np.ndarray, columns: list[str]) -> pa.Table:
    """People rows by row number (= citizen id), reading only the row groups that hold them."""
    group_of = np.searchsorted(run.group_starts, rows, side="right") - 1
    groups = np.unique(group_of)
    people = pq.ParquetFile(run.path / "people.parquet")
    table = people.read_row_groups(groups.tolist(), columns=columns)
    sizes = np.diff(run.group_starts)[groups]
    base = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = base[np.searchsorted(groups, group_of)] + rows - run.group_starts[group_of]
    return table.take(pa.array(local))


def citizen_rows(path: Path, citizen: int, columns: list[str] | None = None) -> pa.Table:
    """Rows of a parquet file whose ``citizen`` equals ``citizen``, skipping row groups whose
    ``citizen`` statistics cannot hold it."""
    f = pq.ParquetFile(path)
    col = f.schema_arrow.get_field_index("citizen")
    groups = []
    for g in range(f.metadata.num_row_groups):
        stats = f.metadata.row_group(g).column(col).statistics
        if stats is None or not stats.has_min_max or stats.min <= citizen <= stats.max:
            groups.append(g)
    table = f.read_row_groups(groups, columns=columns) if groups else f.schema_arrow.empty_table()
    return table.filter(pc.equal(table["citizen"], citizen))


def _mask(run: RunData, filters: dict[str, Any]) -> np.ndarray | None:
    """Which citizens match the filters (None: every citizen), reading only their columns."""
    mask = None
    wanted = {k: v for k, v in filters.items() if v is not None and k != "audited"}
    if wanted:
        table = pq.read_table(run.path / "people.parquet", columns=list(wanted))
        for name, value in wanted.items():
            hit = np.asarray(table[name].to_numpy(zero_copy_only=False) == value)
            mask = hit if mask is None else mask & hit
    if filters.get("audited"):
        audited = np.zeros(run.n, dtype=np.bool_)
        if run.audit_stride:
            audited[:: run.audit_stride][: run.audit_size] = True
        mask = audited if mask is None else mask & audited
    return mask


def search(run: RunData, filters: dict[str, Any], page: int, size: int) -> dict[str, Any]:
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
    columns = [c for c in SUMMARY_COLUMNS if c in run.columns]
    found = people_rows(run, rows, columns).to_pylist() if rows.size else []
    for row in found:
        row["audited"] = run.audited(row["citizen"])
    return {"total": total, "page": page, "size": size, "citizens": found}


def citizen_summary(run: RunData, citizen: int) -> dict[str, Any]:
    """One citizen as a search result (a page of one)."""
    columns = [c for c in SUMMARY_COLUMNS if c in run.columns]
    row = people_rows(run, np.array([citizen], dtype=np.int64), columns).to_pylist()[0]
    row["audited"] = run.audited(citizen)
    return {"total": 1, "page": 0, "size": 1, "citizens": [row]}


def _standing(run: RunData, profile: dict[str, Any]) -> dict[str, Any]:
    """Lists, sanctions and perks held at the end of the run (None: module switched off)."""
    last = run.days - 1
    out: dict[str, Any] = {"lists": None, "sanctions": None, "perks": None}
    if "listed" in profile:
        since = profile.get("listed_since")
        out["lists"] = {
            "listed": profile["listed"],
            "since": since if since is not None and since >= 0 else None,
            "days_listed": profile.get("days_listed"),
            "redlisted": profile.get("redlisted"),
            "wrongful": profile.get("wrongful"),
        }
    tiers = [k.removeprefix("sanction_until_") for k in profile if k.startswith("sanction_until_")]
    if tiers:
        out["sanctions"] = [
            {
                "tier": t,
                "held": profile[f"sanction_until_{t}"] > last,
                "until": u if (u := profile[f"sanction_until_{t}"]) >= 0 else None,
                "days_held": profile.get(f"sanction_days_{t}"),
            }
            for t in tiers
        ]
    perks = [k.removeprefix("perk_days_") for k in profile if k.startswith("perk_days_")]
    if perks:
        held = profile.get("perks_held") or 0
        out["perks"] = [
            {"perk": p, "held": bool(held >> k & 1), "days_held": profile[f"perk_days_{p}"]}
            for k, p in enumerate(perks)
        ]
    return out


def _friends(profile: dict[str, Any], events: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The friends term, and the friends whose events changed the score (most harmful first)."""
    out: dict[str, Any] = {"total": profile.get("part_friends")}
    if events is not None:
        by: dict[int, list[float]] = {}
        for e in events:
            if e["source"] is not None:
                by.setdefault(e["source"], []).append(e["delta"])
        rows = [{"source": s, "delta": sum(d), "events": len(d)} for s, d in by.items()]
        out["by_source"] = sorted(rows, key=lambda r: (r["delta"], r["source"]))
    return out


def _by_day(history: list[dict], events: list[dict]) -> list[dict[str, Any]]:
    """Days with events: the day's score and the events."""
    score = {h["day"]: h["score"] for h in history}
    out: list[dict[str, Any]] = []
    for e in events:
        if not out or out[-1]["day"] != e["day"]:
            out.append({"day": e["day"], "score": score.get(e["day"]), "events": []})
        out[-1]["events"].append(e)
    return out


def lookup(run: RunData, citizen: int) -> dict[str, Any]:
    """One citizen: profile, score components, daily score history and events (audited
    citizens only), friends who changed the score, lists/sanctions/perks held (the shape of
    ``scsim.lookup.lookup``, a subset of it)."""
    profile = people_rows(run, np.array([citizen], dtype=np.int64), list(run.columns))
    profile = profile.to_pylist()[0]
    audited = run.audited(citizen)
    history = events = None
    if audited:
        audit = citizen_rows(run.path / "audit.parquet", citizen).sort_by("day").to_pylist()
        history = [
            {
                "day": r["day"],
                "score": r["score"],
                "parts": {c: r[f"part_{c}"] for c in run.components},
            }
            for r in audit
        ]
        events = citizen_rows(run.path / "events.parquet", citizen).to_pylist()
        events.sort(key=lambda r: r["day"])
    return {
        "citizen": citizen,
        "profile": profile,
        "score": profile["score"],
        "components": [{"component": c, "total": profile.get(f"part_{c}")} for c in run.components],
        "audited": audited,
        "audit": {"sample": run.audit_size, "stride": run.audit_stride},
        "history": history,
        "events_by_day": _by_day(history, events) if audited else None,
        "friends": _friends(profile, events),
        "standing": _standing(run, profile),
    }
