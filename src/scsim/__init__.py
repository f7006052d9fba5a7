"""scsim: a fast, reproducible simulator of social credit systems on synthetic populations.

In a notebook: ``scsim.run``, ``scsim.compare``, ``scsim.sweep`` and ``scsim.load`` (docs/api.md);
they are imported on first use, so ``import scsim`` stays cheap (no numba, dask or optuna).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
"""numba's OpenMP workers sleep when idle instead of spinning: the day pass runs on scsim's own
threads (``scsim.fusion``), and workers spinning after a module's ``prange`` would take the
cores it needs. Read when numba first starts its workers; a value set beforehand is kept."""

__version__ = "0.1.0"
__all__ = ["Result", "__version__", "compare", "load", "run", "sweep"]

_API = ("run", "compare", "sweep", "load", "Result")


def __getattr__(name: str) -> Any:
    """The notebook API, imported on first use (PEP 562)."""
    if name in _API:
        value = getattr(importlib.import_module("scsim.api"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
