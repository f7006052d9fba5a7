"""One citizen's day, module by module: the fused kernel's plain-Python twin run for that
citizen alone, on the state the compiled kernel left the evening before."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from scsim.fusion import fused_kernel
from scsim.kernels.debug import tracing

if TYPE_CHECKING:
    from scsim.engine import Sim


def trace(sim: Sim, citizen: int, day: int) -> dict[str, Any]:
    """Run ``sim``'s scenario afresh to the evening of ``day - 1`` (compiled), then ``day`` in
    Python for ``citizen`` only, and return what each hook did: ``{"citizen", "day",
    "score_before", "score", "view", "steps": [{"module", "hook", "value", "records"}]}``
    (``value``: a delta's score change or an after hook's public flags; ``records``: name ->
    what the hook added)."""
    scenario = sim.scenario
    if not 0 <= citizen < scenario.population.n:
        raise ValueError(
            f"citizen: {citizen} is not allowed; expected 0 to {scenario.population.n - 1}"
        )
    if not 0 <= day < scenario.days:
        raise ValueError(f"day: {day} is not allowed; expected 0 to {scenario.days - 1}")
    sim = type(sim)(scenario).build()
    for d in range(day):
        sim.step(d)
    kernel = fused_kernel(sim.hooks, *sim.kernel_flags, python=True)
    sim.timeline.apply(sim, day)
    args = sim._kernel_args(day, check=True)
    before = float(np.abs(sim.published_scores()[citizen]))
    with tracing(citizen) as steps:
        kernel(*args)
    view = steps.pop(0)["value"] if steps and steps[0]["hook"] == "view" else None
    for step in steps:
        step["records"] = {sim.record_names[c]: v for c, v in step["records"].items()}
    after = float(np.abs(sim.published_scores(yesterday=True)[citizen]))
    return {
        "citizen": citizen, "day": day, "score_before": before, "score": after,
        "view": view or {}, "steps": steps,
    }  # fmt: skip
