"""Days as the citizens' state holds them: int16, two bytes a field instead of four.

A field that holds a day (a ban's end, the next court date, the start of a listing) is a
``DAY`` array. Every day a run reaches is below ``NEVER``, which stands for "not within any
run": an event that never happens, or one scheduled beyond the longest run (``MAX_DAYS``).
Kernels store a day through ``scsim.kernels.waiting.day_at``, which caps it at ``NEVER``, so
a ban of 100 years set on day 30 000 reads as held to the end of the run, as it would uncapped.
The files show days as int32, with ``NEVER`` as int32's largest value (``widen``).
"""

from __future__ import annotations

import numpy as np

DAY = np.int16
"""The dtype of a per-agent day field."""

NEVER = np.int16(np.iinfo(np.int16).max)
"""A day no run reaches (32 767)."""

MAX_DAYS = int(NEVER) - 1
"""The longest run (32 766 days, ~89.7 years): its days and the day after it are below
``NEVER``."""

FILE_NEVER = np.int32(np.iinfo(np.int32).max)
"""``NEVER`` as the files write it."""


def widen(days: np.ndarray) -> np.ndarray:
    """A ``DAY`` array as int32, ``NEVER`` written as ``FILE_NEVER``; other arrays unchanged."""
    if days.dtype != DAY:
        return days
    wide = days.astype(np.int32)
    wide[days == NEVER] = FILE_NEVER
    return wide
