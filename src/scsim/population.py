"""People: the population as a struct of arrays, one array per field, indexed by agent id."""

from __future__ import annotations

import numpy as np

from scsim.rng import uniform_array


class People:
    """Named per-agent arrays. Agent ``i``'s national ID is ``i``; modules add their fields.

    Every field is indexed by national ID. An MPI rank that keeps only its own citizens
    (``keep``) writes only their entries: the rest of each array stays zero pages that the
    operating system never backs with memory (``full``, ``uniform_trait``)."""

    kept: tuple[int, int] | None = None
    """``(lo, hi)`` when this process writes only the citizens ``lo..hi-1``, else None."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.seed = seed
        self.fields: dict[str, np.ndarray] = {}

    @property
    def own(self) -> tuple[int, int]:
        """``(lo, hi)``: the citizens this process writes (every one unless ``keep``)."""
        return self.kept or (0, self.n)

    def around(self, margin: int) -> tuple[int, int]:
        """``own`` widened by ``margin`` citizens on either side, within the population."""
        lo, hi = self.own
        return max(lo - margin, 0), min(hi + margin, self.n)

    def own_households(self, longest: int) -> np.ndarray:
        """The first id of each household holding one of the ``own`` citizens, then one past
        the last one's end (households: id ranges of equal ``household``, of at most
        ``longest`` citizens)."""
        lo, hi = self.own
        if hi == lo:
            return np.array([lo], dtype=np.int64)
        first, last = self.around(longest)
        near = self.fields["household"][first:last]
        change = np.flatnonzero(near[1:] != near[:-1]) + 1 + first
        bounds = np.concatenate([[first], change, [last]]).astype(np.int64)
        start = np.searchsorted(bounds, lo, side="right") - 1
        return bounds[start : np.searchsorted(bounds, hi - 1, side="right") + 1]

    def keep(self, lo: int, hi: int) -> None:
        """Write only the citizens ``lo..hi-1`` from now on (an MPI rank's own)."""
        self.kept = (lo, hi)

    def full(self, fill, dtype, rows: int | None = None) -> np.ndarray:
        """A new per-agent array (``rows`` of them when given) of ``fill``: every citizen's,
        or only the kept citizens' (the rest zero and never touched)."""
        shape = (self.n,) if rows is None else (rows, self.n)
        if self.kept is None:
            return np.full(shape, fill, dtype=dtype)
        out = np.zeros(shape, dtype=dtype)
        if fill != 0:
            out[..., self.own[0] : self.own[1]] = fill
        return out

    def empty(self, dtype) -> np.ndarray:
        """A new per-agent array for its maker to fill: uninitialised, or zero (never touched)
        beyond the kept citizens."""
        return np.empty(self.n, dtype=dtype) if self.kept is None else np.zeros(self.n, dtype)

    def add(self, name: str, values: np.ndarray) -> np.ndarray:
        """Register a per-agent field; it is then readable as ``people.<name>``."""
        if values.shape[0] != self.n:
            raise ValueError(f"field {name!r} has {values.shape[0]} rows, expected {self.n}")
        if name in self.fields:
            raise ValueError(f"field {name!r} is already defined")
        self.fields[name] = values
        return values

    def ensure(self, name: str, dtype, fill=0) -> np.ndarray:
        """The field ``name``, created filled with ``fill`` if no module has added it yet (for
        state that several modules share, such as ``listing_record``)."""
        if name not in self.fields:
            self.add(name, self.full(fill, dtype))
        return self.fields[name]

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(f"People has no field {name!r}") from None

    def uniform_trait(self, stream: str, low: float, high: float) -> np.ndarray:
        """A float32 trait drawn once per agent from Uniform(low, high) on its own stream."""
        return uniform_array(self.seed, stream, self.n, low, high, np.float32, self.kept)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.fields.values())
