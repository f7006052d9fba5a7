"""People: the population as a struct of arrays, one array per field, indexed by agent id."""

from __future__ import annotations

import numpy as np

from scsim.rng import uniform_array


class People:
    """Named per-agent arrays. Agent ``i``'s national ID is ``i``; modules add their fields."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.seed = seed
        self.fields: dict[str, np.ndarray] = {}

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
            self.add(name, np.full(self.n, fill, dtype=dtype))
        return self.fields[name]

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(f"People has no field {name!r}") from None

    def uniform_trait(self, stream: str, low: float, high: float) -> np.ndarray:
        """A float32 trait drawn once per agent from Uniform(low, high) on its own stream."""
        return uniform_array(self.seed, stream, self.n, low, high, dtype=np.float32)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.fields.values())
