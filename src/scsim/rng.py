"""Counter-based random numbers: every draw is a pure function of (seed, stream, day, agent[, k]).

There is no generator state. A module names its stream ("speech", "graph.rewire", ...); the
stream key is a hash of (seed, name), so adding a module never shifts another module's draws
(common random numbers across policies). Within a stream, the key of a day is mixed once per day
outside the agent loop, and the draw of agent ``i`` is one splitmix64 finaliser of
``day_key + (i + 1) * GOLDEN`` -- the ``i``-th output of a splitmix64 sequence seeded by the day
key. One 64-bit hash yields two 32-bit uniforms (``u_hi``, ``u_lo``).

Because no draw depends on the order in which agents are visited, results are bit-identical for
any thread count, any partition of the agents and after a resume.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np
from numba import njit, prange

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_ONE = np.uint64(1)
_INV32 = 1.0 / 4294967296.0


@functools.lru_cache(maxsize=4096)
def stream_key(seed: int, stream: str) -> np.uint64:
    """The 64-bit key of a named stream under a seed (computed once, in Python; kept, since
    modules ask for their streams' day keys every day)."""
    if seed < 0:
        raise ValueError(f"seed: {seed} is not allowed; expected an integer >= 0")
    digest = hashlib.blake2b(f"{seed}\x00{stream}".encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


@njit(inline="always", cache=True)
def mix(z: np.uint64) -> np.uint64:
    """splitmix64 finaliser: a bijective avalanche of 64 bits."""
    z = np.uint64(z)  # numba turns int64 (+) uint64 into float64; never let a key be signed
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always", cache=True)
def day_key(key: np.uint64, day: int) -> np.uint64:
    """Key of one day of a stream; compute once per day, outside the agent loop."""
    return mix(np.uint64(key) ^ mix(np.uint64(day) * GOLDEN + GOLDEN))


def stream_day_key(seed: int, stream: str, day: int) -> np.uint64:
    """``day_key`` of a named stream, typed uint64 for passing into kernels."""
    return np.uint64(day_key(stream_key(seed, stream), day))


@njit(inline="always", cache=True)
def agent_hash(dkey: np.uint64, agent) -> np.uint64:
    """The hash of one agent on one day of a stream."""
    return mix(np.uint64(dkey) + (np.uint64(agent) + _ONE) * GOLDEN)


@njit(inline="always", cache=True)
def agent_hash_k(dkey: np.uint64, agent, k) -> np.uint64:
    """The ``k``-th extra hash of one agent on one day (for per-edge or repeated draws)."""
    return mix(agent_hash(dkey, agent) + (np.uint64(k) + _ONE) * GOLDEN)


@njit(inline="always", cache=True)
def u_hi(h: np.uint64) -> float:
    """Uniform on [0, 1) from the high 32 bits of a hash."""
    return float(h >> _S32) * _INV32


@njit(inline="always", cache=True)
def u_lo(h: np.uint64) -> float:
    """Uniform on [0, 1) from the low 32 bits of a hash."""
    return float(h & _LOW32) * _INV32


@njit(inline="always", cache=True)
def below(h: np.uint64, n) -> np.int64:
    """Integer uniform on [0, n) from the high 32 bits (multiply-shift; n < 2**32)."""
    return np.int64(((h >> _S32) * np.uint64(n)) >> _S32)


@njit(inline="always", cache=True)
def poisson_capped(u: float, lam: float, exp_lam: float, cap: int) -> int:
    """Poisson(``lam``) by inversion of the uniform ``u``, capped at ``cap``; ``exp_lam`` is
    ``exp(-lam)`` (computed once by the caller)."""
    p = exp_lam
    cdf = p
    k = 0
    while u >= cdf and k < cap:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(parallel=True, cache=True)
def _uniform_fill(dkey: np.uint64, low: float, width: float, out: np.ndarray, lo, hi):
    """``out[i]`` for the agents ``lo..hi-1``."""
    for i in prange(lo, hi):
        out[i] = low + width * u_hi(agent_hash(dkey, i))


@njit(parallel=True, cache=True)
def _uniforms_into(dkey: np.uint64, out_hi: np.ndarray, out_lo: np.ndarray) -> None:
    """Both uniforms of agents ``0..n-1`` under a day key (for tests and set-up code)."""
    for i in prange(out_hi.size):
        h = agent_hash(dkey, i)
        out_hi[i] = u_hi(h)
        out_lo[i] = u_lo(h)


def uniform_array(
    seed: int, stream: str, n: int, low: float = 0.0, high: float = 1.0, dtype=np.float64,
    keep: tuple[int, int] | None = None,
) -> np.ndarray:
    """Uniform(low, high) draws of agents ``0..n-1`` on day 0 of a stream (traits, set-up);
    with ``keep`` = (lo, hi), of agents ``lo..hi-1`` only, the others 0 (pages never touched)."""
    lo, hi = keep if keep is not None else (0, n)
    out = np.zeros(n, dtype=dtype) if keep is not None else np.empty(n, dtype=dtype)
    _uniform_fill(stream_day_key(seed, stream, 0), low, high - low, out, lo, hi)
    return out
