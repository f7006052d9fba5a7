"""What a built Sim holds in memory, by part: every buffer once (a view as the array it
views), the bytes of each part, and the bytes a rank keeping only its own citizens would still
hold for everyone (``scsim.plan`` extrapolates them from two small builds)."""

from __future__ import annotations

from typing import Any

import numpy as np

from scsim.ranks import whole_arrays


def root_of(a: np.ndarray) -> np.ndarray:
    """The array whose memory ``a`` views (``a`` itself when it owns its memory)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _arrays(value: Any) -> list[np.ndarray]:
    """The arrays a module attribute holds (an array, or a dict, list or tuple of them)."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, np.ndarray)]
    return []


def arrays_by_part(sim: Any) -> dict[str, dict[str, np.ndarray]]:
    """Every buffer a built Sim holds, once (a view as the array it views), by part ("scores",
    "network", each module's name, "records", "wave", "audit") and name (a module attribute
    holding several: ``name[k]``)."""
    seen: set[int] = set()
    parts: dict[str, dict[str, np.ndarray]] = {}

    def take(part: str, named: dict[str, np.ndarray]) -> None:
        for name, a in named.items():
            root = root_of(a)
            if id(root) not in seen:
                seen.add(id(root))
                parts.setdefault(part, {})[name] = root

    scores = {"packed": sim.packed, "parts": sim.parts, "public": sim.public}
    take("scores", {k: a for k, a in scores.items() if a is not None})
    take("network", {k: a for k, a in vars(sim.graph).items() if isinstance(a, np.ndarray)})
    for name, a in sim.people.fields.items():
        take(sim.field_owner.get(name, "population"), {name: a})
    for m in sim.modules:
        for key, value in vars(m).items():
            if key not in ("sim", "params"):
                take(m.name, {f"{key}[{k}]": a for k, a in enumerate(_arrays(value))})
    take("records", {"records": sim.records, "histograms": sim.histograms, "hist": sim.hist})
    take("wave", {"rec": sim.rec})
    ev = sim.events
    take("audit", {"buffer": ev.buffer, "score_by_day": ev.score_by_day,
                   "parts_by_day": ev.parts_by_day})  # fmt: skip
    return parts


def measure(sim: Any) -> dict[str, int]:
    """Bytes each part of a built Sim holds, every buffer counted once (``arrays_by_part``)."""
    parts = arrays_by_part(sim)
    return {part: sum(a.nbytes for a in arrays.values()) for part, arrays in parts.items()}


def _whole_roots(sim: Any) -> set[int]:
    """The ids of the buffers behind ``whole_arrays``."""
    return {id(root_of(a)) for a in whole_arrays(sim)}


def whole_bytes(sim: Any) -> dict[str, int]:
    """Bytes of each part that a rank keeping only its own citizens would still hold for
    everyone: the arrays of ``scsim.ranks.whole_arrays`` (``tests/test_mpi_run.py`` checks
    that a rank writes no other array beyond its own citizens)."""
    whole = _whole_roots(sim)
    return {
        part: sum(a.nbytes for a in arrays.values() if id(a) in whole)
        for part, arrays in arrays_by_part(sim).items()
    }


def share_rows(sim: Any, n: int, least: int) -> int:
    """Rows of the per-citizen arrays (citizens on the last axis) of which a rank keeping only
    its own citizens writes its share, not the whole (``whole_arrays``), counting only arrays
    of ``least`` bytes or more at ``n`` citizens."""
    whole = _whole_roots(sim)
    return sum(
        a.size // a.shape[-1]
        for arrays in arrays_by_part(sim).values()
        for a in arrays.values()
        if a.ndim and a.shape[-1] in (sim.n, sim.n + 1) and id(a) not in whole
        and a.nbytes / sim.n * n >= least
    )  # fmt: skip
