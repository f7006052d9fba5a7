"""The contract between a mechanic and the engine: flags, the agent view, declarations, Module.

Importing ``scsim.protocol`` needs numba only for ``Agent``/``emit`` (the hooks' view); the
declarations (``scsim.protocol.declare``) and flags (``scsim.protocol.flags``) do not.
"""

from scsim.protocol.agent import Agent, emit
from scsim.protocol.declare import ContractError, PerAgent, Record, Scalar, Table
from scsim.protocol.flags import EVENT_FIELDS, LISTED, OFFENDED, PHASES, REDLISTED, SANCTIONED
from scsim.protocol.module import Module

__all__ = [
    "EVENT_FIELDS", "LISTED", "OFFENDED", "PHASES", "REDLISTED", "SANCTIONED", "Agent",
    "ContractError", "Module", "PerAgent", "Record", "Scalar", "Table", "emit",
]  # fmt: skip
