"""Checkpoints: the complete state of a run after a day, written atomically, and the run
continued from it (``scsim run --checkpoint-every``, ``scsim resume``).

A state file holds the pickled ``Sim`` (protocol 5; ``Sim.__getstate__`` leaves out the fused
kernel and the hooks, which ``Sim._link`` makes again from the on-disk kernel cache) with every
numpy array out of band: each block of memory that arrays share (an array and its views: the
people fields that are rows of a module's 2-D state, the audit sample within the audit log's
buffers, ...) is written once as raw bytes, and every array refers to it by offset, shape and
strides, so after loading the views are views of the same memory again. The file's layout, its
checksums and its atomic write are ``scsim.checkpoint_file``'s. A network that the run's seed
makes (no module replaced it, ``Sim.graph_from_seed``) is not written: the trailer holds the
scenario and the network's checksums, and loading builds it again and checks it (at 10 M
citizens of sc-core it is two thirds of the state).

A run's checkpoint directory ``<out>.checkpoint/`` (beside the run directory, which only
appears when the run ends) holds ``state-<day>.bin`` and ``checkpoint.json``, which names the
state file and holds what ``scsim resume`` needs. The JSON is replaced after the state file it
names is complete, and older state files are deleted only after that.

``scsim.checkpoint_writer.Checkpoints`` saves a running Sim every few days.
"""

from __future__ import annotations

import io
import json
import mmap
import pickle
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scsim.checkpoint_file import (
    FORMAT,
    CheckpointError,
    checksum,
    read_parts,
    read_trailer,
    write_parts,
)
from scsim.checkpoint_tag import describe, tag

Sim = Any
"""A built ``scsim.engine.Sim`` (whose ``save_checkpoint`` and ``load_checkpoint`` call this
module, so it is not imported here)."""

META = "checkpoint.json"


def directory_of(out: Path) -> Path:
    """The checkpoint directory of a run whose run directory is ``out``."""
    return out.with_name(out.name + ".checkpoint")


# --------------------------------------------------------------------- the version tag


def check_tag(path: Path, written: dict, module_names: list[str]) -> None:
    """Raise ``CheckpointError`` unless ``written`` is this code's tag."""
    now = tag(module_names)
    if {k: written.get(k) for k in now} != now:
        raise CheckpointError(
            f"{path}: written by {describe(written)}, but this is {describe(now)}; a "
            "checkpoint is resumed only by the code that wrote it: run the scenario again, or "
            "resume with that version"
        )


# --------------------------------------------------------------------- arrays out of band


class _Pickler(pickle.Pickler):
    """Pickles a Sim with every array as a reference into a block of raw memory (``roots``)."""

    def __init__(self, file: io.BytesIO, seeded: dict[int, str] | None = None) -> None:
        super().__init__(file, protocol=5)
        self.seeded = seeded or {}
        """id -> name of the arrays of a network the seed makes again: not written."""
        self.roots: list[np.ndarray] = []
        self._root_index: dict[int, int] = {}
        self._keys: dict[int, int] = {}
        self._alive: list[np.ndarray] = []  # ids stay unique while pickling
        self.modules: set[str] = {"scsim.engine", "scsim.checkpoint"}

    def dump(self, obj: object) -> None:
        super().dump(obj)
        spans = sorted(
            (*np.lib.array_utils.byte_bounds(r), r.shape, r.dtype.str) for r in self.roots
        )
        for a, b in zip(spans, spans[1:], strict=False):
            if b[0] < a[1]:  # written apart, they would no longer share memory
                raise CheckpointError(
                    f"arrays {a[2]} {a[3]} and {b[2]} {b[3]} share memory, but neither is a "
                    "view of the other: a checkpoint cannot keep them shared"
                )

    def reducer_override(self, obj: object) -> object:
        self.modules.add(type(obj).__module__)
        return NotImplemented

    def persistent_id(self, obj: object) -> tuple | None:
        if type(obj) is not np.ndarray or obj.size == 0 or not _raw(obj.dtype):
            return None
        root = obj
        while (base := _base(root)) is not None:
            root = base
        if not _raw(root.dtype) or not (root.flags.c_contiguous or root.flags.f_contiguous):
            return None  # memory of another kind: pickled by value
        r = self.seeded.get(id(root), self._root_index.get(id(root)))
        if r is None:
            r = self._root_index[id(root)] = len(self.roots)
            self.roots.append(root)
        key = self._keys.setdefault(id(obj), len(self._keys))
        self._alive.append(obj)
        offset = obj.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        return (r, key, obj is root, obj.dtype.str, obj.shape, obj.strides, offset,
                obj.flags.writeable)  # fmt: skip


def dry_run(sim: Sim) -> None:
    """Pickle the state without the arrays' bytes (cheap); raise what pickle raises."""
    _Pickler(io.BytesIO()).dump(sim)


def _base(a: np.ndarray) -> np.ndarray | None:
    """The array whose memory ``a`` views (through a memoryview too), or None."""
    base = a.base
    if isinstance(base, memoryview):
        base = base.obj
    return base if isinstance(base, np.ndarray) else None


def _raw(dtype: np.dtype) -> bool:
    """Whether arrays of ``dtype`` are written as raw bytes (plain numbers, no objects)."""
    return dtype.fields is None and dtype.subdtype is None and not dtype.hasobject


def _flat(root: np.ndarray) -> np.ndarray:
    """A contiguous array's memory as bytes (a view)."""
    return root.ravel(order="K").view(np.uint8)


class _Unpickler(pickle.Unpickler):
    def __init__(
        self, file: io.BytesIO, roots: list[np.ndarray], seeded: dict[str, np.ndarray]
    ) -> None:
        super().__init__(file)
        self.roots = {**dict(enumerate(roots)), **seeded}
        self.flat = {r: _flat(a) for r, a in self.roots.items()}
        self.made: dict[int, np.ndarray] = {}

    def persistent_load(self, pid: tuple) -> np.ndarray:
        r, key, is_root, dtype, shape, strides, offset, writeable = pid
        a = self.made.get(key)
        if a is None:
            if is_root:
                a = self.roots[r]
            else:
                a = np.ndarray(shape, np.dtype(dtype), self.flat[r], offset, strides)
            if not writeable:
                a.flags.writeable = False
            self.made[key] = a
        return a


# --------------------------------------------------------------------- one state file


@dataclass
class State:
    """A Sim's state ready to write: the pickle, the memory blocks its arrays refer to, and the
    trailer (without the blocks' sizes and checksums)."""

    body: bytes
    roots: list[np.ndarray]
    trailer: dict[str, Any]
    day: int


def capture(sim: Sim, into: list[np.ndarray] | None = None) -> State:
    """The state of ``sim`` after ``sim.day`` days. With ``into``, every block is copied into
    the buffers it holds (kept from one checkpoint to the next, made or replaced as needed), so
    the state can be written while the run goes on."""
    if not sim.built:
        raise CheckpointError("only a built Sim has a state to save (call build())")
    body = io.BytesIO()
    seeded = _seeded(sim)
    pickler = _Pickler(body, {id(a): name for name, a in seeded.items()})
    pickler.dump(sim)
    modules = sorted(m for m in pickler.modules if m.startswith("scsim"))
    roots = pickler.roots if into is None else _copied(pickler.roots, into)
    trailer: dict[str, Any] = {
        "format": FORMAT, **tag(modules), "modules": modules, "day": sim.day,
        "days": sim.days, "n": sim.n,
        "roots": [[r.dtype.str, list(r.shape), not r.flags.c_contiguous] for r in roots],
    }  # fmt: skip
    if seeded:  # what makes the network again, and its checksums
        trailer["seeded"] = {
            "scenario": sim.scenario.model_dump(mode="json"),
            "arrays": {name: [a.nbytes, _checksum(a)] for name, a in seeded.items()},
        }
    return State(body.getvalue(), roots, trailer, sim.day)


_CHECKSUMS: dict[int, tuple[weakref.ref, int]] = {}


def _checksum(network_array: np.ndarray) -> int:
    """The checksum of an array of a network the seed made, computed once (no one edits
    it)."""
    known = _CHECKSUMS.get(id(network_array))
    if known is None or known[0]() is not network_array:
        for key in [k for k, (ref, _) in _CHECKSUMS.items() if ref() is None]:
            del _CHECKSUMS[key]
        known = weakref.ref(network_array), checksum(memoryview(_flat(network_array)))
        _CHECKSUMS[id(network_array)] = known
    return known[1]


SMALL = 4 << 20
"""Bytes below which a copy buffer comes from NumPy's allocator (see ``_buffer_like``)."""


def _buffer_like(root: np.ndarray) -> np.ndarray:
    """An empty array shaped, typed and ordered like ``root`` (C- or Fortran-contiguous), for
    a checkpoint's copy. A big one is anonymous memory with no huge-page advice: NumPy asks
    for transparent huge pages, and on this kind of machine (THP "madvise", defrag "madvise")
    the kernel compacted memory to find them: at 10 M citizens of sc-core the first copy of
    0.55 GB took 1.0 s instead of 0.26 s with ordinary pages (later copies 0.03-0.05 s either
    way; bench/README.md, session 17)."""
    if root.nbytes < SMALL:
        return np.empty_like(root, order="K")
    order = "C" if root.flags.c_contiguous else "F"
    return np.ndarray(root.shape, root.dtype, mmap.mmap(-1, root.nbytes), order=order)


def _copied(roots: list[np.ndarray], into: list[np.ndarray]) -> list[np.ndarray]:
    del into[len(roots) :]
    for k, root in enumerate(roots):
        if k == len(into):
            into.append(_buffer_like(root))
        elif into[k].shape != root.shape or into[k].dtype != root.dtype or (
            into[k].flags.c_contiguous != root.flags.c_contiguous
        ):
            into[k] = _buffer_like(root)
        np.copyto(into[k], root)
    return list(into)


def write_state(state: State, path: Path) -> int:
    """Write a captured state to ``path`` atomically; return the file's size."""

    def trailer(sums: list) -> bytes:
        return json.dumps({**state.trailer, "sizes": sums}).encode()

    parts = [memoryview(state.body), *(memoryview(_flat(r)) for r in state.roots)]
    write_parts(path, parts, trailer)
    return path.stat().st_size


def read_state(path: Path, rebuild: Callable[[Any, str], Sim]) -> Sim:
    """The Sim saved in the state file ``path``, with its kernel loaded, ready to run on.
    ``rebuild(scenario, form)`` makes a Sim of the scenario with only its people and its network
    (in ``form``, "csr" or "ring") built, for a network the state file left out (``_seeded``)."""
    trailer = read_trailer(path)
    check_tag(path, trailer, trailer["modules"])
    roots = [
        np.empty(shape, np.dtype(dtype), order="F" if fortran else "C")
        for dtype, shape, fortran in trailer["roots"]
    ]
    body = read_parts(path, trailer, [memoryview(_flat(r)) for r in roots])
    from scsim.fusion import fused_kernel

    try:
        sim = _Unpickler(io.BytesIO(body), roots, _reseeded(path, trailer, rebuild)).load()
    except Exception as e:  # a file that passed its checksums yet does not load
        raise CheckpointError(f"{path}: does not load ({type(e).__name__}: {e})") from None
    streams, kernel = sim.__dict__.pop("_streams"), sim.__dict__.pop("_kernel")
    sim.comm = None
    try:
        sim.split_over_ranks()
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None
    sim.ranks.own_events(sim.events)
    sim.make_record_buffer()
    sim._link(streams, compile_kernel=False)
    made = fused_kernel(sim.hooks, *sim.kernel_flags, python=sim.python).name
    if made != kernel:
        raise CheckpointError(
            f"{path}: was run by the fused kernel {kernel}, but this code makes {made} (a "
            "module of one's own changed?); run the scenario again"
        )
    sim._link(streams)  # the kernel from the cache
    return sim


def _seeded(sim: Sim) -> dict[str, np.ndarray]:
    """The network's arrays, by name, when the seed makes the network again (no module
    replaced or edits it): a checkpoint holds their checksums, not their bytes."""
    if not getattr(sim, "graph_from_seed", False):
        return {}
    arrays = {f"graph.{k}": a for k, a in vars(sim.graph).items() if isinstance(a, np.ndarray)}
    return {k: a for k, a in arrays.items() if a.base is None and a.size}


def _reseeded(
    path: Path, trailer: dict, rebuild: Callable[[Any, str], Sim]
) -> dict[str, np.ndarray]:
    """The network a state file left out, built again from the run's scenario and seed, and
    checked against the checksums it holds."""
    if "seeded" not in trailer:
        return {}
    from scsim.scenario import validate

    form = "ring" if "graph.ring" in trailer["seeded"]["arrays"] else "csr"
    arrays = _seeded(rebuild(validate(trailer["seeded"]["scenario"]), form))
    for name, (size, crc) in trailer["seeded"]["arrays"].items():
        a = arrays.get(name)
        if a is None or a.nbytes != size or _checksum(a) != crc:  # kept for the next save
            raise CheckpointError(
                f"{path}: the network rebuilt from the run's seed is not the one it ran on "
                f"({name} differs); the state cannot be resumed with this code"
            )
    return arrays
