"""``scsim calibrate``: an Optuna study (TPE or CMA-ES) whose trials run on the sweep executor.

Each trial asks the sampler for parameter values and runs R replicates, replicate r with seed
``seed + r`` in every trial (common random numbers: trials differ by their parameters, not by
noise); its loss is the weighted mean of ((achieved - published) / tolerance)^2 over the targets,
``achieved`` the replicate mean, so a loss below 1 means every target is, on average, inside its
tolerance. The study lives in Optuna's journal file (``study.journal``), which parallel
processes and a resumed calibration share; every run is also a task file (``tasks/<key>.json``),
so a trial interrupted by ``kill -9`` is asked again and finds its finished replicates stored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scsim.experiments.executor import Failure, submit
from scsim.experiments.spec import Varied, with_values
from scsim.experiments.targets import Problem
from scsim.experiments.tasks import Task, result_path, save_result, task_key
from scsim.scenario import ScenarioError, validate

STUDY = "study.journal"
TRIALS = "trials.parquet"
FAILED_LOSS = 1e12
"""Loss told for a trial whose measure was NaN (a target with no value cannot be close)."""


@dataclass
class Trial:
    """A trial in flight: its Optuna handle and replicate results as they arrive."""

    handle: Any
    results: dict[int, dict[str, float]] = field(default_factory=dict)


def open_study(problem: Problem, out: Path, sampler: str, seed: int) -> Any:
    """The study in ``out/study.journal`` (created, or loaded to resume); trials a killed client
    left running are marked failed and asked again."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(str(out / STUDY)))
    chosen = (
        optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
        if sampler == "cmaes"
        else optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    )
    study = optuna.create_study(
        study_name=f"scsim-{problem.digest()}",
        storage=storage,
        sampler=chosen,
        direction="minimize",
        load_if_exists=True,
    )
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)
        study.enqueue_trial(t.params)
    return study


def suggest(handle: Any, varied: list[Varied]) -> dict[str, Any]:
    """Ask the trial for a value of every parameter (by its column name); path -> value."""
    values = {}
    for v in varied:
        low, high, log = v.spec.low, v.spec.high, getattr(v.spec, "log", False)
        if v.integer:
            values[v.path] = handle.suggest_int(v.name, round(low), round(high), log=log)
        else:
            values[v.path] = handle.suggest_float(v.name, low, high, log=log)
    return values


def completed(study: Any) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def by_seed(results: dict[int, dict[str, float]]) -> dict[str, list[float]]:
    """Every measure's replicate values, in replicate (seed) order."""
    names = next(iter(results.values())).keys()
    return {k: [float(results[r][k]) for r in sorted(results)] for k in names}


def summary(results: dict[int, dict[str, float]]) -> tuple[dict, dict]:
    """Replicate mean and standard deviation (0 for one replicate) of every measure, added in
    replicate order (whatever order the replicates finished in)."""
    stacked = {k: np.array(v, dtype=float) for k, v in by_seed(results).items()}
    mean = {k: float(v.mean()) for k, v in stacked.items()}
    sd = {k: float(v.std(ddof=1)) if len(v) > 1 else 0.0 for k, v in stacked.items()}
    return mean, sd


def run_study(
    problem: Problem,
    out: Path,
    client: Any,
    trials: int,
    replicates: int,
    sampler: str = "tpe",
    on_trial: Callable[[Any, float], None] = lambda study, loss: None,
) -> tuple[Any, list[Failure]]:
    """Run trials until ``trials`` are complete (counting those of an earlier, interrupted
    calibration); return the study and the runs that failed."""
    from distributed import as_completed
    from optuna.trial import TrialState

    seed = problem.base.seed
    study = open_study(problem, out, sampler, seed)
    outcomes = problem.outcomes
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    room = -(-workers // replicates) + 1  # trials in flight: every worker busy, one waiting
    flying: dict[int, Trial] = {}
    owner: dict[Any, tuple[int, Task]] = {}
    pending = as_completed()
    failures: list[Failure] = []
    done = completed(study)

    def finish(number: int) -> None:
        nonlocal done
        trial = flying.pop(number)
        mean, sd = summary(trial.results)
        loss = problem.loss(mean)
        trial.handle.set_user_attr("achieved", mean)
        trial.handle.set_user_attr("spread", sd)
        trial.handle.set_user_attr("by_seed", by_seed(trial.results))
        study.tell(trial.handle, loss if math.isfinite(loss) else FAILED_LOSS)
        done += 1
        on_trial(study, loss)

    def fail(number: int, error: str, task: Task) -> None:
        trial = flying.pop(number, None)
        if trial is not None:
            study.tell(trial.handle, state=TrialState.FAIL)
        failures.append(Failure(task, error))

    def launch() -> None:
        handle = study.ask()
        values = suggest(handle, problem.varied)
        tasks = []
        for r in range(replicates):
            data = with_values(problem.base, values, seed + r)
            try:
                scenario = validate(data)
            except ScenarioError as e:  # the parts were valid alone, not together
                study.tell(handle, state=TrialState.FAIL)
                failures.append(Failure(Task(handle.number, r, seed + r, values, data, ""), str(e)))
                return
            key = task_key(scenario.digest(), outcomes)
            tasks.append(Task(handle.number, r, seed + r, values, data, key))
        trial = flying[handle.number] = Trial(handle)
        for task in tasks:
            stored = result_path(out, task.key)
            if stored.exists():
                trial.results[task.replicate] = json.loads(stored.read_text())["outcomes"]
            else:
                future = submit(client, task, outcomes, tag=f"-trial{handle.number}")
                owner[future] = (handle.number, task)
                pending.add(future)
        if len(trial.results) == replicates:
            finish(handle.number)

    def refill() -> None:
        while done + len(flying) < trials and len(flying) < room:
            if len(failures) >= max(3, trials):
                return  # every trial failing: stop asking, report the errors
            launch()

    (out / "tasks").mkdir(parents=True, exist_ok=True)
    if done:  # resumed: show what is there
        on_trial(study, study.best_value)
    refill()
    try:
        for future in pending:
            number, task = owner.pop(future)
            if future.status == "error":
                error = future.exception()
                fail(number, f"{type(error).__name__}: {error}", task)
            else:
                result = future.result()
                save_result(out, task, result)
                trial = flying.get(number)
                if trial is not None:
                    trial.results[task.replicate] = result["outcomes"]
                    if len(trial.results) == replicates:
                        finish(number)
            future.release()
            refill()
    finally:
        for future in owner:
            future.cancel()
    return study, failures
