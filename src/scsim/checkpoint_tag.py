"""The version tag of a checkpoint: what must match for its state to be resumed (scsim's and
numba's versions, and a hash of the code the state depends on)."""

from __future__ import annotations

import importlib
from pathlib import Path

import scsim


def _digest(module_names: list[str]) -> str:
    """Hash of the package files the state depends on: the kernel's sources and the modules
    whose classes the pickle holds."""
    import hashlib

    from scsim.fusion import kernel_code_files

    pkg = Path(scsim.__file__).parent
    files = set(kernel_code_files())
    for name in module_names:
        try:
            where = importlib.import_module(name).__file__
        except ImportError:  # gone, or a module of one's own not loaded
            where = None
        files.add(Path(where) if where else pkg / f"missing:{name}")
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(str(path.relative_to(pkg) if pkg in path.parents else path.name).encode())
        h.update(path.read_bytes() if path.is_file() else b"(none)")
    return h.hexdigest()[:16]


def tag(module_names: list[str]) -> dict[str, str]:
    """What must match for a checkpoint to be resumed: scsim's and numba's versions and the
    hash of the code the state depends on."""
    import numba

    return {"scsim": scsim.__version__, "numba": numba.__version__, "code": _digest(module_names)}


def describe(t: dict) -> str:
    """A tag in words."""
    return f"scsim {t.get('scsim')} (numba {t.get('numba')}, code {t.get('code')})"
