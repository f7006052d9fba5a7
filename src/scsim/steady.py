"""Long-run behaviour of a run: yearly listed share and mean score, and whether it settled.

A preset is a claim about the world, so it must not drift into nonsense over a decade
(docs/ODD.md, "Memory and long-run behaviour"). This module reads a finished ``Sim`` and says,
per simulated year, the share of citizens on the blacklist, banned from travel and the mean
score, and compares two years (by default 5 and 10) as relative changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scsim.engine import Sim

YEAR = 365


@dataclass(frozen=True)
class Yearly:
    """End-of-year figures of one run (index 0 = day 364, the end of year 1)."""

    listed_share: np.ndarray
    banned_share: np.ndarray
    mean_score: np.ndarray
    sd_score: np.ndarray

    @property
    def years(self) -> int:
        return len(self.mean_score)

    def change(self, field: str, early: int = 5, late: int = 10) -> float:
        """Relative change of ``field`` from the end of year ``early`` to that of ``late``
        (0 when both are 0; inf when it grows from 0)."""
        values = getattr(self, field)
        a, b = float(values[early - 1]), float(values[late - 1])
        if a == 0:
            return 0.0 if b == 0 else float("inf")
        return (b - a) / a


def _share(sim: Sim, record: str) -> np.ndarray:
    if record not in sim.record_names:
        return np.zeros(sim.records.shape[0])
    return sim.record(record) / sim.n


def yearly(sim: Sim) -> Yearly:
    """End-of-year figures of a finished run (whole years only)."""
    ends = np.arange(YEAR - 1, sim.records.shape[0], YEAR)
    if ends.size == 0:
        raise ValueError(f"the run has {sim.records.shape[0]} days; a year needs {YEAR}")
    banned = "banned" if "banned" in sim.record_names else "sanction_travel"
    hist = sim.histograms[ends].astype(np.float64)
    centres = (sim.bin_edges[:-1] + sim.bin_edges[1:]) / 2
    mean = sim.record("score_sum")[ends] / sim.n
    second = (hist * centres**2).sum(axis=1) / hist.sum(axis=1)
    return Yearly(
        listed_share=_share(sim, "listed")[ends],
        banned_share=_share(sim, banned)[ends],
        mean_score=mean,
        sd_score=np.sqrt(np.maximum(second - mean**2, 0.0)),
    )
