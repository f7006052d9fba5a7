"""Expiry of records (mission row 15): records of misconduct lapse after a clean spell, or never.

Seed 004 quotes the guiding principle "once untrustworthy, always restricted": by default (this
module switched off) records never expire. Switched on, the score penalties of a citizen's
records on file are restored once ``after_days`` days have passed without a new record (the
restoration rule of points systems such as Rongcheng's, where a clean period repairs the
score). The restored points form the ``expiry`` component, so the explanation of a score shows
both the penalties and their lapse.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from pydantic import Field

from scsim.modules.base import Module, emit
from scsim.params import ModuleParams


class ExpiryParams(ModuleParams):
    after_days: int = Field(
        default=365, ge=1, le=36500, description="days without a new record before records lapse"
    )


ExpiryArgs = namedtuple(
    "ExpiryArgs", ["last_record", "on_file", "after_days", "keep", "col", "evk"]
)


@njit(inline="always", cache=True)
def expiry_delta(a, rec, ev, last_record, on_file, after_days, keep, col, evk):
    if a.recorded < 0:
        held = on_file[a.i]
        if held < 0 and keep < 1:  # what the earlier records still weigh today
            held *= keep ** np.float32(a.day - last_record[a.i])
        last_record[a.i] = a.day
        on_file[a.i] = held + a.recorded
        return np.float32(0.0)
    if on_file[a.i] < 0 and a.day - last_record[a.i] >= after_days:
        restored = -on_file[a.i]
        if keep < 1:
            restored *= keep ** np.float32(a.day - last_record[a.i])
        on_file[a.i] = 0.0
        rec[a.region, col] += 1.0
        emit(ev, a, evk, -1, restored, -1)
        return restored
    return np.float32(0.0)


class Expiry(Module):
    """Keeps, per citizen, the day of the last record and the penalty points still on file."""

    name = "expiry"
    Args = ExpiryArgs
    phase = "scoring"
    records = ("records_expired",)
    events = ("expired",)
    delta = expiry_delta

    def init(self) -> None:
        people = self.sim.people
        people.add("last_record", np.full(self.sim.n, -1, dtype=np.int32))
        people.add("record_points", np.zeros(self.sim.n, dtype=np.float32))

    def args(self, day: int) -> tuple:
        people = self.sim.people
        return ExpiryArgs(
            people.last_record, people.record_points, self.params.after_days,
            self.sim.config.scoring.keep_of(), self.col, self.evk,
        )  # fmt: skip
