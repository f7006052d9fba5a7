"""Paired policy comparison on common random numbers.

Replicate ``r`` runs scenario A and scenario B with the same seed ``S + r``. Every draw is a
pure function of (seed, stream, day, agent) and each module has its own streams, so the two runs
share every draw the policy does not touch: the population, the network and, e.g., every
purchase and infraction. A's and B's outcomes in one replicate are then positively correlated,
and the paired difference ``B - A`` varies less across replicates than two independent samples
would: its confidence interval (a t interval over the replicate differences) is narrower than
the Welch interval that ignores the pairing, which is reported beside it for contrast.

Outcomes are read from each Sim's records in memory; no run directory is written per run. A
record absent from one scenario (its module switched off) counts as zero there.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import scsim
from scsim.protocol.declare import Record
from scsim.results import quantiles_from_histogram, region_names, staged
from scsim.runs import first_difference
from scsim.scenario import Scenario
from scsim.stats import paired_interval, welch_interval

LEVEL = 0.95
SAME_POPULATION = ("population", "modules.population", "network", "days")
"""Scenario blocks that must be equal for A and B to describe the same population."""

# (outcome, label, record, reduction); absent in both scenarios: skipped.
OUTCOMES = (
    ("final_banned", "Final banned", "banned", "final"),
    ("peak_banned", "Peak banned", "banned", "peak"),
    ("total_newly_banned", "Total newly banned", "newly_banned", "total"),
    ("final_listed", "Final listed", "listed", "final"),
    ("final_wrongly_listed", "Final wrongly listed", "wrongly_listed", "final"),
    ("total_newly_wrongly_listed", "Total newly wrongly listed", "newly_wrongly_listed", "total"),
    ("total_speech_attempted", "Total speech attempted", "speech_attempted", "total"),
    ("total_speech_detected", "Total speech detected", "speech_detected", "total"),
    ("total_speech_silenced", "Total speech silenced", "speech_silenced", "total"),
    ("total_infractions_deterred", "Total infractions deterred", "infractions_deterred", "total"),
    ("total_ties_cut", "Total ties cut", "ties_cut", "total"),
    ("final_mean_score", "Final mean score", "score_sum", "mean"),
)
SPREAD = ("final_score_spread", "Final score spread (p95 - p05)")
NOT_COUNTS = ("final_mean_score", SPREAD[0])
"""Outcomes that are scores, not counts: never scaled to people."""


LABELS = {name: label for name, label, *_ in OUTCOMES} | {SPREAD[0]: SPREAD[1]}


def _outcomes(records: dict[str, Record]) -> list[tuple[str, str, str, str]]:
    """``OUTCOMES``, then every other headline record and perk either scenario keeps, read
    from the records' metadata: a stock's final value, a flow's total."""
    fixed = {record for _, _, record, _ in OUTCOMES}
    more = []
    for r in records.values():
        if r.name in fixed or not (r.headline or r.section == "perks") or not r.integer:
            continue
        how = "final" if r.kind == "stock" else "total"
        more.append((f"{how}_{r.name}", f"{how.capitalize()} {r.label}", r.name, how))
    return [*OUTCOMES, *more]


def label(outcome: str, records: dict[str, Record] | None = None) -> str:
    """A human label of an outcome (one of ``OUTCOMES`` or a headline record's)."""
    found = {name: text for name, text, *_ in _outcomes(records or {})}
    return found.get(outcome) or LABELS.get(outcome) or outcome.replace("_", " ")


TRAJECTORIES = ("banned", "mean_score")


class CompareError(ValueError):
    """Two scenarios that cannot be compared; the message names the field and both values."""


def check_same_population(a: Scenario, b: Scenario) -> None:
    """Raise CompareError unless A and B describe the same population, network and days."""
    da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
    for dump, sc in ((da, a), (db, b)):  # compared, and named, even where left at its default
        dump["population"]["represents"] = sc.population.represents
    for dotted in SAME_POPULATION:
        va, vb = da, db
        for key in dotted.split("."):
            va, vb = va.get(key), vb.get(key)
        found = first_difference(va, vb, dotted)
        if found:
            where, x, y = found
            raise CompareError(
                f"{where}: A has {json.dumps(x)}, B has {json.dumps(y)}; a paired comparison "
                f"needs the same population ({', '.join(SAME_POPULATION)} must be equal)"
            )


def for_replicate(scenario: Scenario, seed: int) -> Scenario:
    """The scenario as run in a replicate: its seed, and no audit sample (nothing is written)."""
    output = scenario.output.model_copy(update={"audit_sample": 0})
    return scenario.model_copy(update={"seed": seed, "output": output})


def run_sim(scenario: Scenario):
    """Build and run a fresh Sim of ``scenario``."""
    from scsim.engine import Sim

    gc.collect()  # a finished Sim is a reference cycle: free the last replicate's arrays first
    return Sim(scenario).run()


def _reduce(values: np.ndarray, how: str) -> np.ndarray:
    """Reduce days (axis 0) to one value per column: final, peak or total."""
    if how == "final":
        return values[-1]
    if how == "peak":
        return values.max(axis=0)
    return values.sum(axis=0)


def outcomes(sim, records: dict[str, Record]) -> dict[tuple[str, int], float]:
    """Headline outcomes of a finished Sim by (outcome, region); region -1 is everyone.

    ``records`` are the record names to report (those of either scenario); a record this Sim
    lacks counts as zero."""
    days, regions = sim.records.shape[:2]
    counts = np.bincount(sim.region, minlength=regions) if regions > 1 else np.array([sim.n])
    out: dict[tuple[str, int], float] = {}
    for name, _, record, how in _outcomes(records):
        if record not in records:
            continue
        if record not in sim.record_names:
            by_region = np.zeros((days, regions))
        else:
            by_region = sim.record_by_region(record)
        if how == "mean":
            out[(name, -1)] = float(by_region[-1].sum() / sim.n)
            per_region = by_region[-1] / counts
        else:
            out[(name, -1)] = float(_reduce(by_region.sum(axis=1), how))
            per_region = _reduce(by_region, how)
        if regions > 1:
            for k in range(regions):
                out[(name, k)] = float(per_region[k])
    p05, p95 = quantiles_from_histogram(sim.histograms[-1], sim.bin_edges, (0.05, 0.95))
    out[(SPREAD[0], -1)] = float(p95 - p05)
    return out


def trajectories(sim) -> dict[str, np.ndarray]:
    """Per-day banned (zeros without sanctions) and mean score."""
    banned = sim.record("banned") if "banned" in sim.record_names else np.zeros(sim.days)
    return {"banned": banned.astype(np.float64), "mean_score": sim.record("score_sum") / sim.n}


@dataclass
class Comparison:
    """Per-replicate outcomes of A and B, and per-day trajectories, as run."""

    a: Scenario
    b: Scenario
    seed: int
    replicates: int
    names: tuple[str, str] = ("A", "B")
    rows: list[dict[str, Any]] = field(default_factory=list)
    series: dict[str, dict[str, list[np.ndarray]]] = field(default_factory=dict)
    regions: list[str] = field(default_factory=list)
    records: dict[str, Record] = field(default_factory=dict)
    """Every record either scenario keeps, with its metadata."""

    @property
    def seeds(self) -> list[int]:
        return [self.seed + r for r in range(self.replicates)]


def compare(
    a: Scenario,
    b: Scenario,
    replicates: int,
    seed: int,
    names: tuple[str, str] = ("A", "B"),
    on_run: Callable[[str, int], None] | None = None,
) -> Comparison:
    """Run A and B with seeds ``seed + r`` for each replicate r; ``on_run(name, r)`` after each."""
    if replicates < 2:
        raise CompareError(
            f"--replicates: {replicates} is not allowed; expected an integer >= 2 "
            "(a confidence interval needs at least two paired differences)"
        )
    check_same_population(a, b)
    result = Comparison(a, b, seed, replicates, names)
    series = {t: {"a": [], "b": []} for t in TRAJECTORIES}
    for r, s in enumerate(result.seeds):
        sim_a = run_sim(for_replicate(a, s))
        if on_run:
            on_run(names[0], r)
        sim_b = run_sim(for_replicate(b, s))
        if on_run:
            on_run(names[1], r)
        records = {r.name: r for r in [*sim_a.record_specs, *sim_b.record_specs]}
        result.records |= records
        va, vb = outcomes(sim_a, records), outcomes(sim_b, records)
        result.regions = region_names(sim_a) if sim_a.n_regions > 1 else []
        for (name, region), value_a in va.items():
            value_b = vb[(name, region)]
            result.rows.append(
                {
                    "replicate": r, "seed": s, "outcome": name,
                    "region": None if region < 0 else region,
                    "region_name": None if region < 0 else result.regions[region],
                    "a": value_a, "b": value_b, "diff": value_b - value_a,
                }
            )  # fmt: skip
        for sim, side in ((sim_a, "a"), (sim_b, "b")):
            for t, values in trajectories(sim).items():
                series[t][side].append(values)
    result.series = series
    return result


def _keys(rows: list[dict[str, Any]]) -> Iterator[tuple[str, int | None, str | None]]:
    seen: dict[tuple[str, int | None], str | None] = {}
    for row in rows:
        seen.setdefault((row["outcome"], row["region"]), row["region_name"])
    for (name, region), region_name in seen.items():
        yield name, region, region_name


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def in_people(entry: dict[str, Any], factor: float) -> dict[str, Any] | None:
    """An outcome's means, difference and paired interval in people (each citizen standing for
    ``factor``), or None for a score or when each citizen is one person."""
    if factor <= 1 or entry["outcome"] in NOT_COUNTS:
        return None
    paired = entry["paired"]
    return {
        "mean_a": entry["mean_a"] * factor, "mean_b": entry["mean_b"] * factor,
        "diff": entry["diff"] * factor,
        "paired": {"low": paired["low"] * factor, "high": paired["high"] * factor},
    }  # fmt: skip


def summarise(c: Comparison) -> dict[str, Any]:
    """The comparison summary: per outcome, means, paired and unpaired intervals, width ratio,
    and (when each citizen stands for many people) the counts in people."""
    factor = c.a.population.represents
    entries = []
    for name, region, region_name in _keys(c.rows):
        rows = [row for row in c.rows if row["outcome"] == name and row["region"] == region]
        a = np.array([row["a"] for row in rows])
        b = np.array([row["b"] for row in rows])
        paired, unpaired = paired_interval(a, b, LEVEL), welch_interval(a, b, LEVEL)
        ratio = paired.width / unpaired.width if unpaired.width > 0 else math.nan
        entries.append(
            {
                "outcome": name, "label": label(name, c.records), "region": region,
                "region_name": region_name, "mean_a": float(a.mean()), "mean_b": float(b.mean()),
                "diff": paired.estimate,
                "paired": {"low": paired.low, "high": paired.high, "width": paired.width},
                "unpaired": {"low": unpaired.low, "high": unpaired.high, "width": unpaired.width},
                "width_ratio": _finite(ratio),
            }
        )  # fmt: skip
        entries[-1]["people"] = in_people(entries[-1], factor)
    return {
        "scsim_version": scsim.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "a": {"name": c.names[0], "scenario": c.a.model_dump(mode="json"),
              "scenario_hash": c.a.digest()},
        "b": {"name": c.names[1], "scenario": c.b.model_dump(mode="json"),
              "scenario_hash": c.b.digest()},
        "n": c.a.population.n,
        "represents": factor,
        "days": c.a.days,
        "seed": c.seed,
        "seeds": c.seeds,
        "replicates": c.replicates,
        "level": LEVEL,
        "regions": c.regions,
        "outcomes": entries,
        "trajectories": {
            t: {side: np.mean(runs, axis=0).tolist() for side, runs in sides.items()}
            for t, sides in c.series.items()
        },
    }  # fmt: skip


def rows_table(c: Comparison) -> pa.Table:
    """One row per replicate and outcome (and region) with A's and B's values."""
    return pa.table(
        {
            "replicate": pa.array([r["replicate"] for r in c.rows], pa.int32()),
            "seed": pa.array([r["seed"] for r in c.rows], pa.int64()),
            "outcome": pa.array([r["outcome"] for r in c.rows], pa.string()),
            "region": pa.array([r["region"] for r in c.rows], pa.int32()),
            "region_name": pa.array([r["region_name"] for r in c.rows], pa.string()),
            "a": pa.array([r["a"] for r in c.rows], pa.float64()),
            "b": pa.array([r["b"] for r in c.rows], pa.float64()),
            "diff": pa.array([r["diff"] for r in c.rows], pa.float64()),
        }
    )


def write_comparison(c: Comparison, out: Path) -> dict[str, Any]:
    """Write comparison.parquet, .json and .html into ``out`` (staged); return the summary."""
    from scsim.report.comparison import render_comparison

    summary = summarise(c)
    with staged(Path(out)) as tmp:
        pq.write_table(rows_table(c), tmp / "comparison.parquet")
        (tmp / "comparison.json").write_text(json.dumps(summary, indent=2))
        (tmp / "comparison.html").write_text(render_comparison(summary), encoding="utf-8")
    return summary
