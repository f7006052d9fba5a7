"""The points of a sweep's design: a grid, uniform random draws, a Latin hypercube, Saltelli's
Sobol sample or Morris trajectories (the last three from SALib's samplers).

Every design is drawn from the sweep's seed, so the same file gives the same points. Parameters
whose base value is an integer are rounded (Sobol and Morris indices then describe the rounded
model, which is what ran).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from scsim.experiments.spec import Sweep, Varied

DESIGN_STREAM = 0x5EED
"""Mixed into the sweep seed for random designs, so the design's draws are not the runs'."""


def problem(varied: list[Varied]) -> dict[str, Any]:
    """SALib's problem: names and bounds of the ranged parameters."""
    return {
        "num_vars": len(varied),
        "names": [v.name for v in varied],
        "bounds": [[v.spec.low, v.spec.high] for v in varied],
    }


def _levels(v: Varied, levels: int) -> list[Any]:
    if v.spec.values is not None:
        return list(v.spec.values)
    return list(np.linspace(v.spec.low, v.spec.high, levels))


def unit_matrix(sweep: Sweep) -> np.ndarray | None:
    """The design as a (points x parameters) matrix of raw samples, before rounding; None for
    a grid with lists of values (not numbers in a box)."""
    d = sweep.spec.design
    seed = np.random.SeedSequence([sweep.spec.seed, DESIGN_STREAM])
    p = problem(sweep.varied)
    if d.kind == "grid":
        return None
    if d.kind == "random":
        rng = np.random.default_rng(seed)
        lows = np.array([b[0] for b in p["bounds"]])
        highs = np.array([b[1] for b in p["bounds"]])
        return lows + rng.random((d.samples, len(lows))) * (highs - lows)
    from SALib.sample import latin, morris, sobol

    rng = np.random.default_rng(seed)
    if d.kind == "latin":
        return latin.sample(p, d.samples, seed=rng)
    if d.kind == "sobol":
        return sobol.sample(p, d.samples, calc_second_order=False, seed=rng)
    return morris.sample(p, d.samples, num_levels=d.levels, seed=rng)


def _value(v: Varied, x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    if v.integer and isinstance(x, float):
        return round(x)
    return x


def points(sweep: Sweep) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """Each point as {path: value}, and the raw sample matrix (None for grids)."""
    varied = sweep.varied
    matrix = unit_matrix(sweep)
    if matrix is None:
        axes = [_levels(v, sweep.spec.design.levels) for v in varied]
        rows = list(itertools.product(*axes))
    else:
        rows = [tuple(row) for row in matrix]
    return [{v.path: _value(v, x) for v, x in zip(varied, row, strict=True)} for row in rows], (
        matrix
    )
