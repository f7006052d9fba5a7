"""Fusion: the fused kernel's workers and the options its hooks are compiled with."""

import numba
import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from scsim.fusion import KERNEL_PARAMS, FusedKernel, compiled_hook


def _call(n_blocks: int, threads: int) -> tuple:
    """(counter, worker count, the kernel's arguments) of the call a FusedKernel makes."""
    seen = []

    def kernel(next_block, workers, *args):
        seen.append((next_block.copy(), workers, args))

    args = [None] * len(KERNEL_PARAMS)
    args[KERNEL_PARAMS.index("rec")] = np.zeros((n_blocks, 1, 1))
    numba.set_num_threads(threads)
    try:
        FusedKernel(kernel)(*args)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert len(seen) == 1
    return seen[0]


@pytest.mark.parametrize(
    ("n_blocks", "threads", "workers"),
    [(7, 1, 1), (7, 2, 2), (1, 2, 1)],  # never more workers than blocks
)
def test_one_call_with_a_fresh_counter_and_the_worker_count(n_blocks, threads, workers):
    counter, got, args = _call(n_blocks, threads)
    assert counter.dtype == np.int64 and counter.tolist() == [0] and got == workers
    assert len(args) == len(KERNEL_PARAMS)


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
