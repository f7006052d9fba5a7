"""Fusion: the fused kernel's workers and the options its hooks are compiled with."""

import threading

import numba
import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from scsim.fusion import (
    KERNEL_PARAMS,
    MAX_STREAM_ROWS,
    FusedKernel,
    compiled_hook,
    per_agent_arrays,
)


def _call(n_blocks: int, threads: int) -> list:
    """(counter, thread, the kernel's arguments) of each call a FusedKernel makes in a day."""
    seen = []

    def kernel(next_block, *args):
        seen.append((next_block, threading.get_ident(), args))

    args = [None] * len(KERNEL_PARAMS)
    args[KERNEL_PARAMS.index("rec")] = np.zeros((n_blocks, 1, 1))
    numba.set_num_threads(threads)
    try:
        FusedKernel(kernel)(*args)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return seen


@pytest.mark.parametrize(
    ("n_blocks", "threads", "workers"),
    [(7, 1, 1), (7, 2, 2), (1, 2, 1)],  # never more workers than blocks
)
def test_one_counter_shared_by_one_call_per_worker_thread(n_blocks, threads, workers):
    calls = _call(n_blocks, threads)
    assert len(calls) == workers and len({thread for _, thread, _ in calls}) == workers
    counter = calls[0][0]  # one fresh counter, from which every worker claims blocks
    assert counter.dtype == np.int64 and counter.tolist() == [0]
    assert all(c is counter and len(args) == len(KERNEL_PARAMS) for c, _, args in calls)
    assert threading.get_ident() in {thread for _, thread, _ in calls}  # the caller works too


def test_a_rank_runs_only_its_own_blocks():
    # the counter starts at the rank's first block and the records end at its last, so the
    # block loop (which stops at rec.shape[0]) claims exactly blocks 3..6 of 10
    seen = []
    args = [None] * len(KERNEL_PARAMS)
    args[KERNEL_PARAMS.index("rec")] = np.zeros((10, 1, 1))
    numba.set_num_threads(2)
    try:
        FusedKernel(lambda counter, *a: seen.append((counter, a)))(*args, blocks=(3, 7))
        with pytest.raises(ValueError, match=r"blocks \(8, 11\) are not within 0..10"):
            FusedKernel(lambda *a: None)(*args, blocks=(8, 11))
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert len(seen) == 2 and seen[0][0].tolist() == [3] and seen[1][0] is seen[0][0]
    rec = seen[0][1][KERNEL_PARAMS.index("rec")]
    assert rec.shape[0] == 7 and np.shares_memory(rec, args[KERNEL_PARAMS.index("rec")])


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


def test_processes_take_turns_to_compile_a_kernel(tmp_path):
    # a kernel's compile holds an flock on its lock file: another holder (here a thread with
    # its own open file, as another process would have) waits until the first lets go, then
    # finds the kernel in the cache instead of compiling it again
    from scsim.fusion import _turn

    lock, order = tmp_path / "k.lock", []
    second_tried = threading.Event()

    def second():
        second_tried.set()
        with _turn(lock):
            order.append("second")

    with _turn(lock):
        order.append("first")
        thread = threading.Thread(target=second)
        thread.start()
        second_tried.wait(5)
        thread.join(0.5)  # still waiting for the lock
        assert thread.is_alive() and order == ["first"]
    thread.join(5)
    assert order == ["first", "second"]
