"""A run's checkpoint directory (``scsim run --checkpoint-every``, ``scsim resume``), and the
checkpoints of a running Sim every few days into it.

A checkpoint is captured after a day (``scsim.checkpoint.capture``: the Sim pickled, every block
of its memory copied into buffers kept from one checkpoint to the next) and written by a thread
while the run goes on with the next days: the run pays for the copy, a memory copy of its state
without the network, and the writer's share of the CPU (checksums, and handing the bytes to the
operating system, which releases the interpreter's lock). A forked writer was tried first and
measured: the pages the run changed while the child lived were copied one by one, which cost
three times the write (``bench/README.md``, session 15). The run waits for the previous write
before the next checkpoint and before the run ends; Ctrl-C waits for the write in flight.

Over several MPI ranks every rank calls it on the same days: the ranks first give each other
every citizen's state (``scsim.ranks.Ranks.whole``), then rank 0 alone captures and writes, and
every rank learns whether the write failed.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scsim.checkpoint import (
    META,
    CheckpointError,
    State,
    capture,
    check_tag,
    dry_run,
    write_state,
)
from scsim.checkpoint_file import write_atomically

if TYPE_CHECKING:
    from collections.abc import Callable

    from scsim.engine import Sim


class Checkpoints:
    """``on_day`` for ``Sim.run``: save a checkpoint after every ``every``-th day (not after
    the last), written by a thread while the run goes on (``background``). Use it as a context
    manager: leaving it waits for the last write."""

    def __init__(
        self, sim: Sim, directory: Path, every: int, meta: dict, background: bool = True
    ) -> None:
        self.sim, self.directory, self.every = sim, directory, every
        self.meta = {**meta, "every": every}
        self.background = background
        self.writes = sim.ranks.comm.rank == 0
        self.buffers: list[np.ndarray] = []
        """The copy of the run's memory a checkpoint is written from, kept for the next."""
        self.writer: threading.Thread | None = None
        self.failure: str | None = None
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
        if not self.background:
            self._save(capture(self.sim))
            return
        state = capture(self.sim, into=self.buffers)
        self.writer = threading.Thread(target=self._save, args=(state,), name="checkpoint")
        self.writer.start()

    def _save(self, state: State) -> None:
        try:
            save(state, self.directory, self.meta)
        except (OSError, CheckpointError) as e:
            failure = f"{self.directory}: writing a checkpoint failed: {e}"
            if not self.background:
                raise CheckpointError(failure) from None
            self.failure = failure  # the thread's verdict, raised by wait()

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
        """Wait for the thread writing the last checkpoint; raise if it failed."""
        if self.writer is not None:
            self.writer.join()
            self.writer = None
        failure, self.failure = self.failure, None
        if failure is not None:
            raise CheckpointError(failure)

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
        self.buffers.clear()
        self._spent(t0)

    def remove(self) -> None:
        """Delete the checkpoint directory (the run is complete; rank 0 deletes it)."""
        self.wait()
        if self.writes:
            shutil.rmtree(self.directory, ignore_errors=True)


# --------------------------------------------------------------------- a run's directory


def read_meta(directory: Path) -> dict:
    """``checkpoint.json`` of a checkpoint directory (what ``scsim resume`` needs)."""
    path = directory / META
    if not path.is_file():
        raise CheckpointError(
            f"{directory}: holds no checkpoint ({META} is missing); a run writes one with "
            "scsim run ... --checkpoint-every DAYS"
        )
    try:
        meta = json.loads(path.read_text())
        meta["state"], meta["day"]  # noqa: B018 (present)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path}: is corrupt ({type(e).__name__}: {e})") from None
    if meta.get("scenario", {}).get("extensions"):  # load modules of one's own
        from scsim.scenario import ScenarioError, validate

        try:
            validate(meta["scenario"])
        except ScenarioError as e:
            raise CheckpointError(f"{path}: its scenario does not load: {e}") from None
    check_tag(path, meta, meta.get("modules", []))
    return meta


def save(state: State, directory: Path, meta: dict) -> int:
    """Write a captured state as ``directory/state-<day>.bin``, then point ``checkpoint.json``
    at it and delete older state files; return the state file's size."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"state-{state.day:06d}.bin"
    size = write_state(state, directory / name)
    tagged = ("scsim", "numba", "code", "modules", "day")
    info = {**meta, **{k: state.trailer[k] for k in tagged}}
    info |= {"state": name, "bytes": size}
    write_atomically(directory / META, lambda f: f.write(json.dumps(info, indent=2).encode()))
    for old in directory.glob("state-*"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return size


def restore(directory: Path, load: Callable[[Path], Sim]) -> tuple[Sim, dict]:
    """The Sim of a checkpoint directory's newest checkpoint (read by ``load``,
    ``Sim.load_checkpoint``), and its ``checkpoint.json``."""
    meta = read_meta(directory)
    sim = load(directory / meta["state"])
    if sim.day != meta["day"]:
        raise CheckpointError(
            f"{directory / meta['state']}: holds day {sim.day}, but {META} says {meta['day']}"
        )
    return sim, meta
