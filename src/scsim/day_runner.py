"""Running a fused kernel's day: the blocks a call runs, the threads that run them, and the turns
processes take to compile it (``scsim.fusion`` generates the kernel; its module wraps the block
function in ``FusedKernel``)."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numba
import numpy as np

from scsim.fusion import KERNEL_PARAMS, cache_dir


def own_blocks(
    args: tuple, blocks: tuple[int, int] | None, rec_first: int = 0
) -> tuple[tuple, int, int]:
    """The kernel's arguments for the blocks ``first..end`` (None: every block the records
    hold), block b's records going to ``rec[b - rec_first]``: the records cut at the last block
    to run, ``rec_first`` set, and that range."""
    at = KERNEL_PARAMS.index("rec")
    rec = args[at]
    last = rec_first + rec.shape[0]
    first, end = (rec_first, last) if blocks is None else blocks
    if not rec_first <= first <= end <= last:
        raise ValueError(f"blocks {blocks} are not within {rec_first}..{last}")
    cut = (rec[: end - rec_first], np.int64(rec_first))
    return (*args[:at], *cut, *args[at + 2 :]), first, end


@contextmanager
def _turn(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (``flock``: released if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_POOL: dict[int, ThreadPoolExecutor] = {}
"""The process's day threads by their number: made on first use, replaced by a larger pool
when more are asked for."""


def _pool(workers: int) -> ThreadPoolExecutor:
    """A pool of at least ``workers`` threads."""
    size = max(_POOL, default=0)
    if size < workers:
        if size:
            _POOL.pop(size).shutdown(wait=True)
        _POOL[workers] = ThreadPoolExecutor(workers, thread_name_prefix="scsim-day")
        size = workers
    return _POOL[size]


class FusedKernel:
    """A generated ``day_blocks(next_block, *args)``, run by ``numba.get_num_threads()``
    threads at once (the caller and ``threads - 1`` of the pool's), each taking blocks from the
    shared counter ``next_block``; called with the kernel's arguments (``KERNEL_PARAMS``, then
    the fields)."""

    name = ""
    """The generated module's name, ``scsim_fused_<digest>`` (set when it is loaded)."""

    def __init__(self, kernel: Callable) -> None:
        self.kernel = kernel

    def compile(self, signature: tuple) -> None:
        """Compile (or load from the cache) for these argument types (numba types). Processes
        sharing the cache take turns: one compiles, the others wait and then load its result
        (a sweep's or a test run's workers would otherwise compile the same kernel at once, each
        holding a compile's memory)."""
        with _turn(cache_dir() / f"{self.name or 'kernel'}.lock"):
            self.kernel.compile((numba.int64[::1], *signature))

    @property
    def signatures(self) -> list:
        """The argument types compiled so far (the block counter first)."""
        return self.kernel.signatures

    def __call__(
        self, *args: object, blocks: tuple[int, int] | None = None, rec_first: int = 0
    ) -> None:
        """Run the day's pass over every block the records hold, or over ``blocks`` = (first,
        end) only (an MPI rank's own, ``scsim.mpi``; a wave of them, ``scsim.ranks``), block b's
        records going to ``rec[b - rec_first]``: the counter starts at the first and the kernel
        sees the records up to the end, so it claims no other block."""
        args, first, end = own_blocks(args, blocks, rec_first)
        threads = max(1, min(numba.get_num_threads(), end - first))
        counter = np.full(1, first, dtype=np.int64)
        others = []
        if threads > 1:  # the caller is one of the threads
            pool = _pool(threads - 1)
            others = [pool.submit(self.kernel, counter, *args) for _ in range(threads - 1)]
        self.kernel(counter, *args)
        for done in others:
            done.result()


def signature_of(args: tuple) -> tuple:
    """The numba types of a kernel's arguments."""
    return tuple(numba.typeof(x) for x in args)


def check_signature(signature: tuple, args: tuple, day: int) -> None:
    """A timeline change must keep every kernel argument's type (no recompile mid-run)."""
    now = signature_of(args)
    if now != signature:
        k = next(k for k, (a, b) in enumerate(zip(now, signature, strict=True)) if a != b)
        raise RuntimeError(
            f"the timeline's change on day {day} changed argument {k} of the fused kernel "
            f"from {signature[k]} to {now[k]}; a module's update must keep its "
            "fields' dtypes and shapes"
        )
