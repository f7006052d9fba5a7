"""What a calibration leaves: ``trials.parquet`` (every complete trial: its values, loss and
achieved measures) and the calibrated scenario YAML, the input scenario with the best values set
and a ``calibration:`` block saying what was fitted to what, how well, and where the study is.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

import scsim
from scsim.experiments.calibrate import STUDY, TRIALS
from scsim.experiments.targets import Problem
from scsim.experiments.tasks import write_atomic
from scsim.scenario import load_raw, validate


def complete_trials(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def trials_table(problem: Problem, study: Any) -> pa.Table:
    rows = []
    for t in complete_trials(study):
        row = {"trial": t.number, "loss": t.value}
        row |= {v.name: t.params[v.name] for v in problem.varied}
        achieved, spread = t.user_attrs.get("achieved", {}), t.user_attrs.get("spread", {})
        for name in problem.targets:
            row[name] = achieved.get(name)
            row[f"{name}_sd"] = spread.get(name)
        rows.append(row)
    return pa.Table.from_pylist(rows)


def _set_raw(raw: dict[str, Any], full: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in the scenario as written, copying from the full scenario (defaults filled
    in) whatever block the file left out."""
    parts = path.split(".")
    node, whole = raw, full
    for part in parts[:-1]:
        key: Any = int(part) if isinstance(whole, list) else part
        whole = whole[key]
        if isinstance(node, list):
            node = node[key]
        else:
            if key not in node:
                node[key] = copy.deepcopy(whole)
            node = node[key]
    leaf: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
    node[leaf] = value


def calibrated_yaml(
    problem: Problem, study: Any, scenario_ref: str, targets_path: Path, out: Path,
    replicates: int, sampler: str,
) -> str:  # fmt: skip
    """The input scenario with the best trial's values and a ``calibration:`` block."""
    best = study.best_trial
    values = {v.path: best.params[v.name] for v in problem.varied}
    raw = load_raw(scenario_ref)
    full = problem.base.model_dump(mode="json")
    raw.setdefault("population", {})["n"] = problem.base.population.n
    raw["days"] = problem.base.days
    raw["seed"] = problem.base.seed
    for path, value in values.items():
        _set_raw(raw, full, path, value)
    achieved, spread = best.user_attrs["achieved"], best.user_attrs["spread"]
    seeds = best.user_attrs.get("by_seed", {})  # a study begun before it was recorded: none
    today = datetime.now(UTC).date().isoformat()
    fitted = ", ".join(v.path for v in problem.varied)
    raw.setdefault("sources", {})["calibration"] = (
        f"{fitted} fitted by scsim calibrate on {today} to the published figures of "
        f"{targets_path.name} (the calibration block: each target's publication, the value "
        "achieved and the study)"
    )
    raw["calibration"] = {
        "targets_file": targets_path.name,
        "targets": {
            name: {
                "value": t.value,
                "tolerance": t.tolerance,
                "achieved": achieved[name],
                "spread": spread[name],
                **({"by_seed": seeds[name]} if name in seeds else {}),
                "within": t.within(achieved[name]),
                **({"bound": t.bound} if t.bound != "equal" else {}),
                "day": t.day,
                "source": t.source,
            }
            for name, t in problem.targets.items()
        },
        "parameters": values,
        "loss": best.value,
        "best_trial": best.number,
        "trials": len(complete_trials(study)),
        "replicates": replicates,
        "seeds": [problem.base.seed + r for r in range(replicates)],
        "n": problem.base.population.n,
        "days": problem.base.days,
        "sampler": sampler,
        "study": str(out / STUDY),
        "trials_table": str(out / TRIALS),
        "date": today,
        "scsim_version": scsim.__version__,
    }
    validate(copy.deepcopy(raw))  # what we write must run
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)


def write_outputs(
    problem: Problem, study: Any, scenario_ref: str, targets_path: Path, out: Path,
    replicates: int, sampler: str,
) -> Path:  # fmt: skip
    """Write ``trials.parquet`` and ``<name>-calibrated.yaml``; return the YAML's path."""
    table = trials_table(problem, study)
    tmp = out / f".{TRIALS}.partial"
    pq.write_table(table, tmp)
    tmp.replace(out / TRIALS)
    target = out / f"{problem.name}-calibrated.yaml"
    text = calibrated_yaml(problem, study, scenario_ref, targets_path, out, replicates, sampler)
    write_atomic(target, text)
    return target
