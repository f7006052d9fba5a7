"""The Python API for notebooks: ``scsim.run``, ``scsim.compare``, ``scsim.sweep`` and
``scsim.load`` (docs/api.md).

Overrides are keyword arguments naming a scenario field by its dotted path, with ``__`` for
each dot: ``modules__lists__blacklist_below=600`` sets ``modules.lists.blacklist_below``
(a list entry by its index: ``modules__infractions__kinds__0__rate=0.01``). A dotted name also
works through ``**{"modules.lists.blacklist_below": 600}``. ``n``, ``days`` and ``seed`` set
``population.n``, ``days`` and ``seed``. A mistake raises ``ScenarioError`` (a ``ValueError``)
naming the field, the value and what is allowed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scsim.api_many import Compared, Swept
from scsim.api_result import Result
from scsim.scenario import Scenario, ScenarioError, load_raw, preset_names, validate

if TYPE_CHECKING:
    from scsim.engine import Sim

ScenarioLike = str | Path | Scenario
"""A preset name, a scenario YAML file, or a ``Scenario``."""


def load(
    scenario: ScenarioLike,
    *,
    n: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    **overrides: Any,
) -> Scenario:
    """A validated scenario: a preset, YAML file or ``Scenario`` with overrides applied."""
    if not isinstance(scenario, Scenario | str | Path):
        raise ScenarioError(
            f"scenario: {scenario!r} is not allowed; expected a preset name "
            f"({', '.join(preset_names())}), a YAML file or a Scenario"
        )
    changes = {_dotted(key): value for key, value in overrides.items()}
    for path, value in (("population.n", n), ("days", days), ("seed", seed)):
        if value is None:
            continue
        if path in changes:
            raise ScenarioError(f"{path}: given twice; give it once")
        changes[path] = value
    if isinstance(scenario, Scenario) and not changes:
        return scenario
    if isinstance(scenario, Scenario):
        data = scenario.model_dump(mode="json")
    else:
        data = load_raw(str(scenario))
    for path, value in changes.items():
        _assign(data, path, value)
    return validate(data)


def _dotted(key: str) -> str:
    path = key.replace("__", ".")
    if not all(path.split(".")):
        raise ScenarioError(
            f"{key}: is not a field path; expected names joined by '__' or "
            "'.', e.g. modules__lists__blacklist_below"
        )
    return path


def _assign(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in a scenario mapping, making missing blocks (mappings) on the way."""
    parts = path.split(".")
    node: Any = data
    for k, part in enumerate(parts):
        inside = ".".join(parts[:k])
        key: str | int = part
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(
                    f"{path}: {part!r} is not allowed after {inside!r}, a list "
                    f"of {len(node)}; expected an index from 0 to {len(node) - 1}"
                )
            key = int(part)
        elif not isinstance(node, dict):
            raise ScenarioError(
                f"{path}: {inside!r} is {node!r}, not a block; expected a path "
                "to a field of a block"
            )
        if k == len(parts) - 1:
            node[key] = value
        else:
            if isinstance(node, dict) and node.get(key) is None:
                node[key] = {}  # a block left out (or off): set as in a YAML file
            node = node[key]


def _threads(requested: int | None) -> int:
    import numba

    most = numba.config.NUMBA_NUM_THREADS
    if requested is None:
        return most
    if isinstance(requested, bool) or not isinstance(requested, int) or not 1 <= requested <= most:
        raise ValueError(
            f"threads: {requested!r} is not allowed; expected an integer from 1 to "
            f"{most} (set NUMBA_NUM_THREADS to allow more)"
        )
    return requested


@contextmanager
def _numba_threads(k: int) -> Iterator[None]:
    """Run with ``k`` numba threads, then restore the caller's number."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(k)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _preset(scenario: ScenarioLike) -> str | None:
    return scenario if isinstance(scenario, str) and scenario in preset_names() else None


def _warn_beyond_run(scenario: Scenario) -> None:
    from scsim.timeline import beyond_run

    for line in beyond_run(scenario):
        warnings.warn(line, UserWarning, stacklevel=3)


def run(
    scenario: ScenarioLike,
    *,
    n: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: bool = False,
    **overrides: Any,
) -> Result:
    """Run a scenario in this process and return its ``Result`` (frames, plots, look-ups).

    ``scenario`` is a preset name, a YAML file or a ``Scenario``; ``overrides`` are dotted
    paths with ``__`` for each dot (see the module's docstring); ``threads`` defaults to every
    core, as ``scsim run`` does."""
    sc = load(scenario, n=n, days=days, seed=seed, **overrides)
    _warn_beyond_run(sc)
    k = _threads(threads)
    with _numba_threads(k):
        sim = _simulate(sc, progress)
    return Result(sim, _preset(scenario), k)


def _simulate(scenario: Scenario, progress: bool) -> Sim:
    from scsim.engine import Sim

    sim = Sim(scenario)
    if not progress:
        return sim.run()
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("day {task.completed:.0f}"),
        TimeRemainingColumn(),
    ) as bar:  # fmt: skip
        task = bar.add_task(f"building {sim.n:,} citizens", total=sim.days)
        sim.build()
        bar.update(task, description=scenario.name)
        return sim.run(on_day=lambda day: bar.update(task, completed=day + 1))


def compare(
    a: ScenarioLike,
    b: ScenarioLike,
    *,
    replicates: int,
    n: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    names: tuple[str, str] | None = None,
    threads: int | None = None,
    progress: bool = False,
) -> Compared:
    """Compare B with A on common random numbers (replicate r: seed ``seed + r`` for both),
    as ``scsim compare`` does; ``n`` and ``days`` apply to both."""
    from scsim.paired import CompareError, check_same_population
    from scsim.paired import compare as paired

    sa, sb = load(a, n=n, days=days), load(b, n=n, days=days)
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 2:
        raise CompareError(
            f"replicates: {replicates!r} is not allowed; expected an integer >= 2 "
            "(a confidence interval needs at least two paired differences)"
        )
    check_same_population(sa, sb)
    first = sa.seed if seed is None else seed
    if not isinstance(first, int) or first < 0 or first + replicates > 2**63:
        raise CompareError(
            f"seed: {first!r} is not allowed; expected 0 <= seed < 2**63 - replicates"
        )
    if names is None:
        names = (_label(a, sa), _label(b, sb))
        names = names if names[0] != names[1] else ("A", "B")
    k = _threads(threads)
    with _numba_threads(k), _counting(2 * replicates, progress) as on_run:
        result = paired(sa, sb, replicates, first, names, on_run)
    return Compared(result)


def _label(given: ScenarioLike, scenario: Scenario) -> str:
    return given if isinstance(given, str) else scenario.name


@contextmanager
def _counting(total: int, progress: bool) -> Iterator[Callable[[str, int], None] | None]:
    """An ``on_run(name, replicate)`` that advances a progress bar (None without one)."""
    if not progress:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("run {task.completed:.0f}"),
        TimeRemainingColumn(),
    ) as bar:  # fmt: skip
        task = bar.add_task("runs", total=total)
        yield lambda name, r: bar.update(task, advance=1, description=f"replicate {r + 1}: {name}")


def sweep(
    spec: str | Path | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    n: int | None = None,
    days: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    png: bool = False,
) -> Swept:
    """Run a sweep (a sweep file, or its fields as a mapping) on Dask, as ``scsim sweep``
    does: a local cluster of ``workers`` processes unless ``scheduler`` names one. ``out``
    (default ``sweeps/<name>``) is resumed when it holds the same sweep."""
    from scsim.experiments import sweep as store
    from scsim.experiments.executor import dask_client
    from scsim.experiments.report import render
    from scsim.experiments.spec import SweepError, load_sweep, sweep_from_data

    if workers is not None and (
        scheduler or not isinstance(workers, int) or not 1 <= workers <= 1024
    ):
        raise SweepError(
            f"workers: {workers!r} is not allowed; expected an integer from 1 to "
            "1024, and no scheduler (a scheduler's cluster has its own)"
        )
    sizes = {"n": n, "days": days, "replicates": replicates, "seed": seed}
    if isinstance(spec, Mapping):
        sw = sweep_from_data(dict(spec), Path(out).name if out else "sweep", Path.cwd(), **sizes)
    else:
        sw = load_sweep(spec, **sizes)
    target = _sweep_dir(Path(out) if out else Path("sweeps") / sw.name, store.MANIFEST)
    p = store.plan(sw, target)
    todo = p.missing()
    if todo:
        store.check_outcomes(sw.base, sw.outcomes)
    with dask_client(scheduler, workers) if todo else nullcontext() as client:
        failures = store.execute(p, client)
    report, _ = render(target, png=png)
    return Swept(target, report, failures)


def _sweep_dir(target: Path, marker: str) -> Path:
    """A new or empty directory, or a sweep directory to resume."""
    from scsim.experiments.spec import SweepError

    if target.exists() and not target.is_dir():
        raise SweepError(f"out: {str(target)!r} is a file; expected a directory")
    if target.is_dir() and any(target.iterdir()) and not (target / marker).exists():
        raise SweepError(
            f"out: {str(target)!r} is not empty and is not a sweep directory; "
            "choose a new directory (an existing sweep directory is resumed)"
        )
    return target
