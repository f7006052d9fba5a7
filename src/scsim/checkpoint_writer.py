"""Checkpoints of a running Sim every few days (``scsim run --checkpoint-every``), into a
run's checkpoint directory (``scsim.checkpoint``).

Where ``os.fork`` exists, a checkpoint is written by a child process: the child sees the run's
memory as it was after the day (copy-on-write), pickles and writes it, and exits, while the
parent goes on with the next days; the child runs no numba code, ignores Ctrl-C (the
checkpoint completes) and dies with its parent (a killed run leaves no writer behind). The
parent waits for the previous child before the next checkpoint and before the run ends.

Over several MPI ranks every rank calls it on the same days: the ranks first give each other
every citizen's state (``scsim.ranks.Ranks.whole``), then rank 0 alone writes.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scsim.checkpoint import CheckpointError, dry_run, save

if TYPE_CHECKING:
    from collections.abc import Callable

    from scsim.engine import Sim


class Checkpoints:
    """``on_day`` for ``Sim.run``: save a checkpoint after every ``every``-th day (not after
    the last), from a forked child where ``os.fork`` exists (``background``). Use it as a
    context manager: leaving it waits for the last child."""

    def __init__(
        self, sim: Sim, directory: Path, every: int, meta: dict, background: bool | None = None
    ) -> None:
        self.sim, self.directory, self.every = sim, directory, every
        self.meta = {**meta, "every": every}
        self.background = hasattr(os, "fork") if background is None else background
        self.writes = sim.ranks.comm.rank == 0
        self.child: int | None = None
        try:  # cheap (arrays are not copied): a state that cannot be saved stops the run now
            dry_run(sim)
        except Exception as e:
            raise CheckpointError(
                f"{directory}: the run's state cannot be saved ({type(e).__name__}: {e})"
            ) from None

    def __call__(self, day: int) -> None:
        done = day + 1
        if done % self.every or done >= self.sim.days:
            return
        t0 = time.perf_counter()
        self._agreed(self.wait)
        with self.sim.ranks.whole(self.sim):
            self._agreed(self._write)
        self._spent(t0)

    def _write(self) -> None:
        if not self.writes:
            return
        if self.background:
            self.child = _fork(lambda: save(self.sim, self.directory, self.meta))
            return
        try:
            save(self.sim, self.directory, self.meta)
        except OSError as e:
            raise CheckpointError(f"{self.directory}: writing a checkpoint failed: {e}") from None

    def _agreed(self, step: Callable[[], None]) -> None:
        """Run ``step``; if it raised ``CheckpointError`` on rank 0 (the rank that writes),
        raise it on every rank, so that no rank waits for the others in the next day."""
        error = None
        try:
            step()
        except CheckpointError as e:
            error = str(e)
        error = self.sim.ranks.comm.bcast(error)
        if error is not None:
            raise CheckpointError(error)

    def _spent(self, t0: float) -> None:
        """Count the run's time since ``t0`` as spent on checkpoints (``checkpoint_s``)."""
        t = self.sim.timings
        t["checkpoint_s"] = t.get("checkpoint_s", 0.0) + time.perf_counter() - t0

    def wait(self) -> None:
        """Wait for the child writing the last checkpoint; raise if it failed."""
        if self.child is None:
            return
        _, status = os.waitpid(self.child, 0)
        self.child = None
        if status != 0:
            raise CheckpointError(f"{self.directory}: writing a checkpoint failed (see above)")

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, kind: type | None, *_: object) -> None:
        t0 = time.perf_counter()
        if kind is None:  # every rank leaves normally, at the same day: agree on the verdict
            self._agreed(self.wait)
        else:
            try:
                self.wait()
            except CheckpointError:
                pass
        self._spent(t0)

    def remove(self) -> None:
        """Delete the checkpoint directory (the run is complete; rank 0 deletes it)."""
        self.wait()
        if self.writes:
            shutil.rmtree(self.directory, ignore_errors=True)


def _fork(work) -> int:
    """Run ``work()`` in a child process that exits 0 when it returns; return its pid."""
    import warnings

    parent = os.getpid()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with numba's threads
        pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the checkpoint completes
        _die_with(parent)
        work()
        code = 0
    except BaseException as e:  # noqa: BLE001 (the child reports, the parent raises)
        os.write(2, f"error: writing a checkpoint: {type(e).__name__}: {e}\n".encode())
    finally:
        os._exit(code)


def _die_with(parent: int) -> None:
    """End this child when its parent ends (Linux): a killed run leaves no writer behind."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)
