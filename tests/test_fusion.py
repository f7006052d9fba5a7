"""Fusion: the options the fused kernel's hooks are compiled with, and its streams."""

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from scsim.fusion import (
    MAX_STREAM_ROWS,
    compiled_hook,
    per_agent_arrays,
)


def test_compiled_hook_is_shared_and_refuses_to_allocate():
    @njit(inline="always")
    def allocating(x):
        return np.zeros(3)[0] + x

    hook = compiled_hook(allocating)
    assert compiled_hook(allocating) is hook  # one dispatcher per process: compiled once

    @njit
    def caller(x):
        return hook(x)

    # without reference counting numba compiles no function that returns a new array
    with pytest.raises(TypingError, match="Only accept returning of array passed"):
        caller(1.0)


def test_per_agent_arrays_are_the_fields_prefetched_as_streams_each_once():
    n = 50
    shared = np.zeros(n, dtype=np.float32)
    fields = ("rate", "values", "rows", "wide", "short", "strided", "again", "other")
    values = (
        0.5,  # a scalar
        np.zeros(n, dtype=np.uint8),  # one entry per agent: a stream
        np.zeros((3, n), dtype=np.int32),  # a row per tier: three streams
        np.zeros((MAX_STREAM_ROWS + 1, n)),  # too many rows to prefetch each
        np.zeros(n - 1),  # not one entry per agent
        np.zeros(2 * n)[::2],  # per agent, but not contiguous
        shared,
        shared,  # the same array under a second name: prefetched once
    )
    seen: set[int] = set()
    assert per_agent_arrays(fields, values, n, seen) == (("values", 1), ("rows", 2), ("again", 1))
    assert per_agent_arrays(("other",), (shared,), n, seen) == ()  # another module's field


def test_the_kernel_prefetches_its_own_streams_and_the_modules_fields():
    from scsim.engine import Sim
    from tests.conftest import small

    sim = Sim(small(n=3000, days=1)).build()
    source = kernel_source_of(sim)
    for name in ("packed_out", "speech_dissent", "sanctions_sanctions_held"):
        assert f"prefetch({name}, ahead)" in source
    assert "prefetch_at(parts, row, ahead)" in source


def kernel_source_of(sim) -> str:
    """The generated source of a built simulation's fused kernel."""
    import inspect
    import sys

    module = sys.modules[sim.kernel.kernel.py_func.__module__]
    assert module.__name__.startswith("scsim_fused_")
    return inspect.getsource(module)
