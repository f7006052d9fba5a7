"""Public flags, phases and event columns: the constants every module and the engine share."""

import numpy as np

SANCTIONED = np.uint8(1)
"""Public flag: under a sanction neighbours can see (a travel ban ...)."""
LISTED = np.uint8(2)
"""Public flag: on a blacklist that is disclosed to the public."""
REDLISTED = np.uint8(4)
"""Public flag: on a redlist (of the trustworthy)."""
OFFENDED = np.uint8(8)
"""Public flag: a record of misconduct was made against the citizen that day."""

AMNESTY_LISTINGS, AMNESTY_RECORDS = 1, 2
"""Bits of a day's amnesty (the timeline's ``amnesty`` events, read by the policy module):
listings lifted, records of misconduct wiped."""

PHASES = ("behaviour", "scoring", "lists", "sanctions")
"""Order in which modules' hooks run within an agent's day (the DESIGN.md day loop)."""

EVENT_FIELDS = ("day", "citizen", "kind", "cause", "delta", "source")
"""Columns of an event-buffer row (row 0 of a block's buffer holds [count, dropped])."""
