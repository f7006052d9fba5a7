"""Long-run behaviour of a run: yearly listed share and mean score, and whether it settled.

A preset is a claim about the world, so it must not drift into nonsense over a decade
(docs/ODD.md, "Memory and long-run behaviour"). This module reads a finished ``Sim`` and says,
per simulated year, the share of citizens on the blacklist, banned from travel and the mean
score (each averaged over the year's days: a stock of a few hundred listed citizens moves by
several per cent from one day to another), and compares two years (by default 5 and 10) as
relative changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scsim.engine import Sim

YEAR = 365


@dataclass(frozen=True)
class Yearly:
    """Yearly averages of one run (index 0 = year 1, days 0-364); ``sd_score`` is the spread
    of scores on the year's last day, from the daily histogram."""

    listed_share: np.ndarray
    banned_share: np.ndarray
    mean_score: np.ndarray
    sd_score: np.ndarray

    @property
    def years(self) -> int:
        return len(self.mean_score)

    def change(self, field: str, early: int = 5, late: int = 10) -> float:
        """Relative change of ``field`` from year ``early`` to year ``late`` (0 when both are
        0; inf when it grows from 0)."""
        values = getattr(self, field)
        a, b = float(values[early - 1]), float(values[late - 1])
        if a == 0:
            return 0.0 if b == 0 else float("inf")
        return (b - a) / a


def _by_year(values: np.ndarray, years: int) -> np.ndarray:
    return values[: years * YEAR].reshape(years, YEAR).mean(axis=1)


def _share(sim: Sim, record: str, years: int) -> np.ndarray:
    if record not in sim.record_names:
        return np.zeros(years)
    return _by_year(sim.record(record), years) / sim.n


def yearly(sim: Sim) -> Yearly:
    """Yearly figures of a finished run (whole years only)."""
    years = sim.records.shape[0] // YEAR
    if years == 0:
        raise ValueError(f"the run has {sim.records.shape[0]} days; a year needs {YEAR}")
    ends = np.arange(1, years + 1) * YEAR - 1
    hist = sim.histograms[ends].astype(np.float64)
    centres = (sim.bin_edges[:-1] + sim.bin_edges[1:]) / 2
    mean_end = (hist * centres).sum(axis=1) / hist.sum(axis=1)
    second = (hist * centres**2).sum(axis=1) / hist.sum(axis=1)
    return Yearly(
        listed_share=_share(sim, "listed", years),
        banned_share=_share(sim, "banned", years),
        mean_score=_by_year(sim.record("score_sum"), years) / sim.n,
        sd_score=np.sqrt(np.maximum(second - mean_end**2, 0.0)),
    )
