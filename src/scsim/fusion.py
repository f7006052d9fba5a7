"""Fusion: one pass per day over agents, generated from the enabled modules' hooks.

Every module contributes small numba hooks (see ``scsim.protocol``); this file writes a
block function that calls them in phase order for each agent of the fixed blocks it takes,
passing each module's fields as named parameters (``speech_dissent``, ``sanctions_ban_until``,
...). A module that is switched off is simply absent from it, so it costs nothing. The generated
source is written to the kernel cache directory (named by a hash of the hooks and of the package
source it inlines) so numba's ``cache=True`` applies. The block function releases the GIL
(``nogil``); ``numba.get_num_threads()`` threads (the caller and a pool of Python threads) run
it at once and take blocks one at a time from a shared atomic counter.

Compile time is most of a cold run (and of the test suite), so the kernel is built to compile
fast and to run about as fast as the former single ``prange`` kernel (bench/README.md):

- each hook is compiled on its own (once per process and signature) with ``forceinline``, so
  LLVM, not numba's IR inliner, inlines it into the block function;
- the block function runs without numba's reference counting (``_nrt=False``): with it,
  numba increfs and decrefs the arrays its inlined hooks take, once per agent (steps 5-10x
  slower). A hook that allocates (or returns a new array) therefore does not compile: the day
  loop allocates nothing;
- no ``prange``: numba's parfor lowering is superlinear in the arrays a ``prange`` body uses,
  and a ``prange`` shell that only called the block function with its ~100-270 arrays cost
  about half of every kernel's compile (SC-core 8.8 of 17.8 s). Python threads run the nogil
  block function instead; they take blocks from a shared atomic counter
  (``scsim.kernels.claim``), so a thread that starts late takes fewer blocks instead of
  delaying the day;
- ``error_model="numpy"``: a division by zero gives inf or nan;
- the helpers hooks call from many places (``emit``, surveillance's ``sight``,
  ``next_event_day``, finance's ``_wait``) are ordinary numba functions, not inlined by numba
  (``inline="always"``): numba typed and lowered each inlined copy again, which was 40 % of
  all-modules' compile (19.5 s -> 11.7 s without it); the steps are as fast (bench/README.md).

Per-block records are summed in block order by the caller, so every record is bit-identical for
any thread count.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

import scsim
from scsim.kernels.template import (
    DELTA, MEMORY, PREFETCH, RING_PREFETCH, RING_VIEW, RUNTIME, TEMPLATE, VIEW,
)  # fmt: skip
from scsim.protocol.declare import ContractError
from scsim.protocol.module import LEAD


@dataclass(frozen=True)
class Hooks:
    """What the fused kernel needs to know of one enabled module."""

    name: str
    fields: tuple[str, ...]
    delta: Callable | None
    after: Callable | None
    component: int = -1
    """Row of ``parts`` the delta feeds (-1: none)."""
    offence: bool = False
    """Negative deltas count as records of misconduct (``Agent.recorded``, ``OFFENDED``)."""
    scoring: bool = False
    """The delta runs in the scoring phase (after ``recorded`` is known)."""
    gated: bool = False
    """The hooks run only for citizens enrolled in the system (``enrolled[i]``) when the kernel
    is built with the enrolment gate (lists and sanctions phases: the system's reactions)."""
    streams: tuple[tuple[str, int], ...] = ()
    """(field, ndim) of the fields that are per-agent arrays (1-D of length n, or 2-D of n
    columns): the kernel prefetches them ahead of the agent (see ``PREFETCH_STREAM``)."""


MAX_STREAM_ROWS = 16
"""Rows of a 2-D per-agent array up to which each row is prefetched as a stream."""

BLOCK = 2048
"""Agents per block: the unit of parallel work and of deterministic partial records."""

KERNEL_PARAMS = (
    "day", "indptr", "indices", "far", "active", "ring", "ring_half", "packed_in", "packed_out",
    "public_in",
    "public_out", "region", "audit_stride", "parts", "lo", "hi", "inv_bin_width", "rec",
    "rec_first", "spans", "hist", "ev", "sample_score", "sample_parts", "keep",
)  # fmt: skip
"""The fused kernel's leading parameters, before ``enrolled`` (when gated) and the modules'
fields. Over a network held by its ring (``scsim.network.ring``), ``indptr`` and ``indices`` are
its ties off the ring (``xptr``, ``xind``), ``ring`` its ring bits and ``ring_half`` k / 2; over
a CSR graph ``ring`` is a one-element stand-in and ``far`` the far-neighbour table."""

HOOK_OPTIONS = {
    "forceinline": True,
    "_nrt": False,
    "error_model": "numpy",
    "no_cpython_wrapper": True,
    "no_cfunc_wrapper": True,
}
"""numba options a hook is compiled with for the fused kernel (see the module docstring)."""

FORGOTTEN = np.float32(1e-3)
"""A score component smaller than this (in points) is set to 0 by the memory."""


def cache_dir() -> Path:
    """Where generated kernels live: ``$SCSIM_CACHE_DIR`` or ``~/.cache/scsim/kernels``."""
    root = os.environ.get("SCSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "scsim"
    )
    return Path(root) / "kernels"


KERNEL_CODE = ("rng.py", "fusion.py", "kernels", "modules", "network", "protocol")
"""The package's files and folders a fused kernel inlines code from."""


def kernel_code_files() -> list[Path]:
    """The package's source files a fused kernel inlines, in a fixed order (a kernel cache key
    and a checkpoint's version tag hash them: numba's cache does not track them)."""
    pkg = Path(scsim.__file__).parent
    files: list[Path] = []
    for sub in KERNEL_CODE:
        files += sorted((pkg / sub).rglob("*.py")) if (pkg / sub).is_dir() else [pkg / sub]
    return files


def _source_digest() -> str:
    """Hash of the package sources a fused kernel inlines."""
    h = hashlib.sha256()
    for path in kernel_code_files():
        h.update(path.read_bytes())
    return h.hexdigest()


def _own_digest(modules: list[Hooks]) -> str:
    """Hash of the files of hooks outside the package (modules of one's own)."""
    pkg = Path(scsim.__file__).parent
    files = {
        Path(inspect.getsourcefile(h.py_func)).resolve()
        for m in modules
        for h in (m.delta, m.after)
        if h is not None
    }
    h = hashlib.sha256()
    for path in sorted(f for f in files if pkg not in f.parents):
        h.update(path.read_bytes())
    return h.hexdigest()


def _hook_import(hook: Callable, alias: str) -> str:
    """Lines of the generated kernel that bind ``alias`` to the compiled ``hook``."""
    return (
        f"from {hook.py_func.__module__} import {hook.__name__} as _{alias}\n"
        f"{alias} = compiled_hook(_{alias})"
    )


_COMPILED_HOOKS: dict[Callable, Callable] = {}


def compiled_hook(hook: Callable) -> Callable:
    """The hook's function as a dispatcher with ``HOOK_OPTIONS`` (one per process, so kernels
    that share a hook compile it once per signature)."""
    if hook not in _COMPILED_HOOKS:
        _COMPILED_HOOKS[hook] = njit(**HOOK_OPTIONS)(hook.py_func)
    return _COMPILED_HOOKS[hook]


def _gate(code: str) -> str:
    """Run generated lines only for enrolled citizens."""
    return "            if enrolled[i]:\n" + "\n".join("    " + line for line in code.split("\n"))


def kernel_source(
    modules: list[Hooks],
    regions: bool,
    public: bool,
    gated: bool = False,
    active: bool = False,
    memory: bool = False,
    ring: bool = False,
    python: bool = False,
) -> str:
    """Source of the fused kernel for these modules' hooks, in phase order. ``regions``: read
    each agent's region (else all count in region 0); ``public``: gather and publish flags;
    ``gated``: take an ``enrolled`` array and run gated modules' hooks only for the enrolled;
    ``active``: read the graph's per-edge mask and skip cut ties (shunning); ``memory``: every
    score component fades by its factor ``keep[c]`` a day before today's deltas (the score's
    memory, ``modules.scoring.half_life``); ``ring``: the network is held by its ring
    (``ring_view``); ``python``: the same day in plain Python, tracing one citizen on request
    (``scsim.kernels.debug``)."""
    imports, behaviour, scoring, afters = [], [], [], []
    streams = [("region", 1)] if regions else []
    streams += [("packed_out", 1), ("parts", 2)]
    streams += [("public_in", 1), ("public_out", 1)] if public else []
    streams += [("enrolled", 1)] if gated else []
    names = ["# the engine's", *KERNEL_PARAMS, *(["enrolled"] if gated else [])]
    trace = _trace if python else _untraced
    for k, m in enumerate(modules):
        names += [f"# -- {m.name} --", *(f"{m.name}_{f}" for f in m.fields)]
        streams += [(f"{m.name}_{f}", ndim) for f, ndim in m.streams]
        gate = _gate if gated and m.gated else str
        if m.delta is not None:
            args = _hook_args(m, m.delta, "delta")
            imports.append(_hook_import(m.delta, f"d{k}"))
            offence = "\n                recorded += min(d, np.float32(0.0))" if m.offence else ""
            lines = scoring if m.scoring else behaviour
            if m.component >= 0:
                code = trace(m.name, "delta", f"d = d{k}(a, r, e, {args})", "d")
                code += "\n" + DELTA.format(c=m.component, offence=offence)
            else:  # state only: no score component
                code = trace(m.name, "delta", f"d{k}(a, r, e, {args})", "None")
            lines.append(gate(code))
        if m.after is not None:
            args = _hook_args(m, m.after, "after")
            imports.append(_hook_import(m.after, f"a{k}"))
            code = trace(m.name, "after", f"flags = a{k}(a, score, r, e, {args})", "flags")
            afters.append(gate(code + "\n            public |= flags"))
    return TEMPLATE.format(
        runtime=RUNTIME[python],
        signature="\n".join(f"    {x}" if x.startswith("#") else f"    {x}," for x in names),
        names=", ".join(m.name for m in modules),
        imports="\n".join(imports),
        block=BLOCK,
        skip="\n            if not wanted(agent):\n                continue" if python else "",
        seen="\n            seen(agent, a)" if python else "",
        region="np.int64(region[i])" if regions else "0",
        # a register sum without regions; a read-modify-write of the region's row with them
        score_sum="r[g, 0] += score" if regions else "score_sum += score",
        public=public,
        prefetch=(RING_PREFETCH if ring else PREFETCH).format(public=public),
        view=(RING_VIEW if ring else VIEW).format(public=public, active=active),
        memory=MEMORY if memory else " " * 12 + "pass",
        behaviour="\n".join(behaviour) or " " * 12 + "pass",
        scoring="\n".join(scoring) or " " * 12 + "pass",
        afters="\n".join(afters) or " " * 12 + "pass",
        streams="\n".join(_prefetch_line(name, ndim) for name, ndim in streams),
    )


def _untraced(module: str, kind: str, call: str, value: str) -> str:
    """A hook's call in the compiled kernel, under a banner naming the module."""
    return f"            # -- {module}: {kind} --\n            {call}"


def _trace(module: str, kind: str, call: str, value: str) -> str:
    """A hook's call in the Python kernel: the traced citizen's records before and after."""
    return (
        f"            # -- {module}: {kind} --\n"
        f"            before = snap(agent, r, g)\n"
        f"            {call}\n"
        f"            traced({module!r}, {kind!r}, agent, {value}, r, g, before)"
    )


def _prefetch_line(name: str, ndim: int) -> str:
    """Generated lines prefetching agent ``ahead``'s entry of a per-agent array (each row's)."""
    if ndim == 1:
        return f"                prefetch({name}, ahead)"
    return (
        f"                for row in range({name}.shape[0]):\n"
        f"                    prefetch_at({name}, row, ahead)"
    )


def _hook_args(m: Hooks, hook: Callable, kind: str) -> str:
    """The kernel's arguments for a hook: its parameters after the leading ones, by name."""
    lead = LEAD[kind]
    got = tuple(inspect.signature(hook.py_func).parameters)
    missing = [p for p in got[len(lead) :] if p not in m.fields]
    if got[: len(lead)] != lead or missing:
        raise ContractError(
            f"module {m.name!r}: {kind} hook parameters {got} must be {lead} followed by "
            f"names of its fields {tuple(m.fields)} (not {missing})"
        )
    return ", ".join(f"{m.name}_{p}" for p in got[len(lead) :])


def per_agent_arrays(
    fields: tuple[str, ...], values: tuple, n: int, seen: set[int]
) -> tuple[tuple[str, int], ...]:
    """(field, ndim) of the values that are per-agent arrays (C-contiguous, 1-D of length ``n``
    or 2-D of ``n`` columns and at most ``MAX_STREAM_ROWS`` rows) at an address not in
    ``seen``, which gets theirs: an array several modules take is prefetched once."""
    streams = []
    for f, v in zip(fields, values, strict=True):
        if not (isinstance(v, np.ndarray) and v.flags.c_contiguous and v.shape[-1] == n):
            continue
        if v.ndim == 1 or (v.ndim == 2 and v.shape[0] <= MAX_STREAM_ROWS):
            if v.ctypes.data not in seen:
                seen.add(v.ctypes.data)
                streams.append((f, v.ndim))
    return tuple(streams)


def fused_kernel(
    modules: list[Hooks],
    regions: bool,
    public: bool,
    gated: bool = False,
    active: bool = False,
    memory: bool = False,
    ring: bool = False,
    python: bool = False,
) -> FusedKernel:
    """Generate (or reuse) the fused kernel for these modules (``kernel_source``'s flags)."""
    source = kernel_source(modules, regions, public, gated, active, memory, ring, python)
    digest = hashlib.sha256((source + _source_digest() + _own_digest(modules)).encode())
    digest = digest.hexdigest()[:16]
    name = f"scsim_fused_{digest}"
    if name in sys.modules:
        return sys.modules[name].day_step
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module.day_step.name = name
    return module.day_step
