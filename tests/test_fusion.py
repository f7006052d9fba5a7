"""Fusion: the fused kernel's threads and the options its hooks are compiled with."""

import threading

import numba
import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from scsim.fusion import KERNEL_PARAMS, FusedKernel, compiled_hook


def _calls(n_blocks: int, threads: int) -> list[tuple[bool, int, int]]:
    """(on the calling thread, counter's id, counter's value) of each call a FusedKernel makes."""
    calls = []

    def blocks(next_block, *args):
        on_caller = threading.current_thread() is threading.main_thread()
        calls.append((on_caller, id(next_block), int(next_block[0])))

    args = [None] * len(KERNEL_PARAMS)
    args[KERNEL_PARAMS.index("rec")] = np.zeros((n_blocks, 1, 1))
    numba.set_num_threads(threads)
    try:
        FusedKernel(blocks)(*args)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return sorted(calls)


@pytest.mark.parametrize(
    ("n_blocks", "threads", "callers"),
    [
        (7, 1, [True]),
        (7, 2, [False, True]),  # the calling thread and one worker
        (1, 2, [True]),  # never more threads than blocks
    ],
)
def test_one_call_per_thread_sharing_one_fresh_counter(n_blocks, threads, callers):
    calls = _calls(n_blocks, threads)
    assert [on_caller for on_caller, _, _ in calls] == callers
    assert len({counter for _, counter, _ in calls}) == 1
    assert all(value == 0 for _, _, value in calls)  # the fake blocks claim nothing


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
