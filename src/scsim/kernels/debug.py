"""The fused kernel in plain Python: what a generated kernel imports in debug mode.

``scsim.fusion.kernel_source(..., python=True)`` writes the same day as the compiled kernel,
but its names come from here: ``njit`` keeps the function as it is, prefetches do nothing,
and the module hooks and the agent view are their Python functions
(``py_func``), so ``pdb`` (or a ``breakpoint()`` in a hook) stops inside a module. Helpers a hook
calls (``emit``, the random streams ...) still run compiled. Slow: for small populations.

It also traces one citizen (``tracing``): the agent view it saw, each hook's return value and
the records that hook added, and its new score (``Sim.trace``).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numba.core.extending import _Intrinsic
from numba.core.registry import CPUDispatcher as Dispatcher

from scsim.day_runner import own_blocks
from scsim.fusion import fused_kernel
from scsim.kernels.agent import agent_view as _agent_view
from scsim.kernels.agent import score_bin as _score_bin
from scsim.kernels.agent import with_recorded as _with_recorded
from scsim.kernels.bits import py_ctpop, py_cttz
from scsim.kernels.ring_view import ring_view as _ring_view

agent_view = _agent_view.py_func
score_bin = _score_bin.py_func
with_recorded = _with_recorded.py_func


def njit(*args: Any, **options: Any) -> Any:
    """``numba.njit``'s signature, keeping the function in Python."""
    if args and callable(args[0]):
        return args[0]
    return lambda f: f


def prefetch(*args: Any) -> None:
    """No prefetch in Python."""


prefetch_at = prefetch_ahead = prefetch_row = ring_prefetch_ahead = prefetch


def claim(counter: np.ndarray) -> int:
    """Take the next block (one thread: no atomics needed)."""
    taken = int(counter[0])
    counter[0] += 1
    return taken


def hook(dispatcher: Callable) -> Callable:
    """A module hook as a Python function whose numba helpers (random streams, ``emit`` ...)
    are Python too: numbers then stay numpy scalars of the kernel's types (a compiled helper
    would hand back Python ints, and a uint64 hash overflows its next call)."""
    return _in_python(dispatcher.py_func, {})


def _in_python(func: Callable, done: dict) -> Callable:
    """``func`` with every numba function it names replaced by its Python twin."""
    if func in done:
        return done[func]
    names = dict(func.__globals__)
    twin = types.FunctionType(
        func.__code__, names, func.__name__, func.__defaults__, func.__closure__
    )
    done[func] = twin
    for name, value in func.__globals__.items():
        if isinstance(value, Dispatcher):
            names[name] = _in_python(value.py_func, done)
        elif isinstance(value, _Intrinsic):
            names[name] = INTRINSICS.get(name, _no_intrinsic(name))
    return twin


def _no_intrinsic(name: str) -> Callable:
    def missing(*args: Any) -> None:
        raise NotImplementedError(f"the numba intrinsic {name!r} has no Python twin")

    return missing


INTRINSICS = {
    "prefetch": prefetch, "prefetch_at": prefetch, "prefetch_row": prefetch, "claim": claim,
    "cttz": py_cttz, "ctpop": py_ctpop,
}  # fmt: skip
"""Python twins of the numba intrinsics hooks (and the ring's view) may call."""

ring_view = _in_python(_ring_view.py_func, {})


class FusedKernel:
    """``scsim.day_runner.FusedKernel`` for a kernel in Python: nothing to compile, one thread."""

    def __init__(self, kernel: Callable) -> None:
        self.kernel = kernel
        self.signatures: list = []

    def compile(self, signature: tuple) -> None:
        """Nothing to compile."""

    def __call__(
        self, *args: object, blocks: tuple[int, int] | None = None, rec_first: int = 0
    ) -> None:
        args, first, _ = own_blocks(args, blocks, rec_first)
        with np.errstate(all="ignore"):  # as compiled: integers wrap, x / 0 is inf or nan
            self.kernel(np.full(1, first, dtype=np.int64), *args)


_TRACE: dict[str, Any] = {"citizen": None, "steps": None}


@contextmanager
def tracing(citizen: int) -> Iterator[list[dict[str, Any]]]:
    """Collect, while the Python kernel runs, what happens to ``citizen`` (only that citizen's
    day is computed: the pass skips every other agent)."""
    steps: list[dict[str, Any]] = []
    _TRACE.update(citizen=citizen, steps=steps)
    try:
        yield steps
    finally:
        _TRACE.update(citizen=None, steps=None)


def wanted(agent: int) -> bool:
    """Whether the pass computes this agent (all of them unless one is traced)."""
    return _TRACE["citizen"] is None or agent == _TRACE["citizen"]


def snap(agent: int, rec: np.ndarray, region: int) -> np.ndarray | None:
    """The traced citizen's region row of the block's records, before a hook runs."""
    return rec[region].copy() if agent == _TRACE["citizen"] else None


def traced(module: str, kind: str, agent: int, value: Any, rec: np.ndarray, region: int,
           before: np.ndarray | None) -> None:  # fmt: skip
    """Note a hook's return value and the records it added for the traced citizen."""
    if before is None or _TRACE["steps"] is None:
        return
    added = rec[region] - before
    cols = np.flatnonzero(added)
    steps = _TRACE["steps"]
    steps.append(
        {"module": module, "hook": kind, "value": _plain(value),
         "records": {int(c): float(added[c]) for c in cols}}
    )  # fmt: skip


def seen(agent: int, a: Any) -> None:
    """Note the agent view the traced citizen's hooks read."""
    if agent == _TRACE["citizen"] and _TRACE["steps"] is not None:
        view = {k: _plain(v) for k, v in a._asdict().items()}
        _TRACE["steps"].append({"module": "engine", "hook": "view", "value": view})


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def trace_citizen(sim: Any, citizen: int, day: int) -> dict[str, Any]:
    """``Sim.trace``: the scenario of ``sim`` run afresh to the evening of ``day - 1``
    (compiled), then ``day`` in plain Python with ``citizen`` traced."""
    n, days = sim.scenario.population.n, sim.scenario.days
    if not 0 <= citizen < n:
        raise ValueError(f"citizen: {citizen} is not allowed; expected 0 to {n - 1}")
    if not 0 <= day < days:
        raise ValueError(f"day: {day} is not allowed; expected 0 to {days - 1}")
    fresh = type(sim)(sim.scenario).build()
    for d in range(day):
        fresh.step(d)
    kernel = fused_kernel(fresh.hooks, *fresh.kernel_flags, python=True)
    fresh.timeline.apply(fresh, day)
    args = fresh._kernel_args(day, check=True)
    before = float(np.abs(fresh.published_scores()[citizen]))
    with tracing(citizen) as steps:
        kernel(*args)
    view = steps.pop(0)["value"] if steps and steps[0]["hook"] == "view" else None
    for step in steps:
        step["records"] = {fresh.record_names[c]: v for c, v in step["records"].items()}
    after = float(np.abs(fresh.published_scores(yesterday=True)[citizen]))
    return {
        "citizen": citizen, "day": day, "score_before": before, "score": after,
        "view": view or {}, "steps": steps,
    }  # fmt: skip
