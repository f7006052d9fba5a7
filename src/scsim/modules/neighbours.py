"""The fields of a hook that walks a citizen's neighbours (friends terms, peer rating,
look-ups): the graph's arrays, and the published scores when the hook reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scsim.protocol import PerAgent, Scalar, Table
from scsim.protocol.declare import Field

if TYPE_CHECKING:
    from scsim.protocol.host import Host


def graph_fields(sim: Host, scores: bool = True) -> tuple[Field, ...]:
    """``indptr`` (uint32 or uint64 by edge count, declared as built), ``indices``, ``active``,
    ``ring`` and ``ring_half`` (``Graph.kernel_arrays``: over a network held by its ring,
    ``indptr`` and ``indices`` are the ties off the ring; ``scsim.kernels.row`` walks either)
    and, with ``scores``, ``packed`` (published scores, as the day's pass reads them)."""
    indptr = sim.graph.kernel_arrays()[0]
    fields = (
        Table("indptr", indptr.dtype, doc="the graph's row offsets"),
        Table("indices", np.uint32, doc="the graph's neighbours"),
        Table("active", np.uint8, doc="the graph's tie mask (one element: no mask)"),
        Table("ring", np.uint32, doc="the ring's ties as bits (one element: a CSR graph)"),
        Scalar("ring_half", np.int64, doc="half the ring's ties (0: a CSR graph)"),
    )
    packed = PerAgent("packed", np.float32, doc="published scores (sign bit: visibly sanctioned)")
    return (*fields, packed) if scores else fields


def graph_values(sim: Host, scores: bool = True) -> dict:
    """The ``graph_fields`` values on the coming day."""
    indptr, indices, _, active, ring, half = sim.graph.kernel_arrays()
    values = {"indptr": indptr, "indices": indices, "active": active, "ring": ring}
    values["ring_half"] = half
    return values | {"packed": sim.published_scores()} if scores else values
