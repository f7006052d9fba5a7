"""The fused kernel's day run by threads over blocks (``scsim.day_runner``)."""

import threading

import numba
import numpy as np
import pytest

from scsim.day_runner import FusedKernel, _turn
from scsim.fusion import KERNEL_PARAMS


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


def test_processes_take_turns_to_compile_a_kernel(tmp_path):
    # a kernel's compile holds an flock on its lock file: another holder (here a thread with
    # its own open file, as another process would have) waits until the first lets go, then
    # finds the kernel in the cache instead of compiling it again
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
