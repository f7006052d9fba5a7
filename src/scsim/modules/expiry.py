"""Expiry of records (mission row 15): records of misconduct lapse after a clean spell, or never.

Seed 004 quotes the guiding principle "once untrustworthy, always restricted": by default (this
module switched off) records never expire. Switched on, the score penalties of a citizen's
records on file are restored once ``after_days`` days have passed without a new record (the
restoration rule of points systems such as Rongcheng's, where a clean period repairs the
score). The restored points form the ``expiry`` component, so the explanation of a score shows
both the penalties and their lapse.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field

from scsim.days import DAY
from scsim.params import ModuleParams
from scsim.protocol import Module, PerAgent, Record, Scalar, emit


class ExpiryParams(ModuleParams):
    after_days: int = Field(
        default=365, ge=1, le=36500, description="days without a new record before records lapse"
    )


@njit(inline="always", cache=True)
def expiry_delta(
    a, rec, ev, last_record, record_points, after_days, keep, col_records_expired, kind_expired
):
    if a.recorded < 0:
        held = record_points[a.i]
        if held < 0 and keep < 1:  # what the earlier records still weigh today
            held *= keep ** np.float32(a.day - last_record[a.i])
        last_record[a.i] = a.day
        record_points[a.i] = held + a.recorded
        return np.float32(0.0)
    if record_points[a.i] < 0 and a.day - last_record[a.i] >= after_days:
        restored = -record_points[a.i]
        if keep < 1:
            restored *= keep ** np.float32(a.day - last_record[a.i])
        record_points[a.i] = 0.0
        rec[a.region, col_records_expired] += 1.0
        emit(ev, a, kind_expired, -1, restored, -1)
        return restored
    return np.float32(0.0)


class Expiry(Module):
    """Keeps, per citizen, the day of the last record and the penalty points still on file."""
    reach = "own"

    name = "expiry"
    phase = "scoring"
    fields = (
        PerAgent("last_record", DAY, fill=-1, doc="day of the last record (-1: none)"),
        PerAgent("record_points", np.float32, fill=0, doc="penalty points still on file"),
        Scalar("after_days", np.int64, doc="clean days before the records lapse"),
        Scalar("keep", np.float32, doc="daily factor of the score's memory (1: none)"),
    )
    records = (
        Record("records_expired", "citizens whose records lapsed", kind="flow", section="lists"),
    )
    events = ("expired",)
    delta = expiry_delta

    def kernel_values(self, day: int) -> dict:
        return {"after_days": self.params.after_days, "keep": self.sim.config.scoring.keep_of()}
