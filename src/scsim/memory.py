"""How much memory there is: what this process may use, what it holds, and sizes written as
people read them."""

from __future__ import annotations

import os
import re
from pathlib import Path

MEMORY_ENV = "SCSIM_MEMORY"
"""Environment variable: the memory scsim may plan for, instead of what the machine has."""


def gib(nbytes: float) -> str:
    """Bytes as people read them: 812 MB, 6.4 GB, 1.2 TB (powers of 1 000)."""
    for size, unit in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB")):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{nbytes / 1e3:.3g} kB"


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def available_memory() -> int:
    """Bytes this process may use: ``SCSIM_MEMORY`` when set (plan for a share of a shared
    machine), else the smaller of the cgroup limit and MemAvailable."""
    if os.environ.get(MEMORY_ENV):
        try:
            return parse_bytes(os.environ[MEMORY_ENV])
        except ValueError:
            raise ValueError(
                f"{MEMORY_ENV}: {os.environ[MEMORY_ENV]!r} is not a size; expected a number of "
                "bytes with a unit, such as 24GB, 512MiB or 1.5TB"
            ) from None
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except OSError:
        candidates.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    limit = _cgroup_limit()
    if limit is not None:
        candidates.append(limit)
    return min(candidates)


HUGE_PAGE = 2 << 20
"""Bytes of a transparent huge page (x86-64)."""
HUGE_FROM = 4 << 20
"""numpy asks the kernel for huge pages (``madvise``) for arrays of this many bytes or more."""


def huge_pages() -> bool:
    """Whether numpy's large arrays get transparent huge pages here (THP "always" or
    "madvise")."""
    try:
        mode = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
    except OSError:
        return False
    return "[always]" in mode or "[madvise]" in mode


def resident() -> int:
    """This process's resident memory now, in bytes."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak so far
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def parse_bytes(text: str) -> int:
    """``24GB``, ``24 GiB``, ``512MB``, ``1.5TB`` or a number of bytes; ValueError otherwise."""
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?)b?", text.strip().lower())
    if match is None:
        raise ValueError(text)
    number, prefix, binary = match.groups()
    power = "kmgt".index(prefix) + 1 if prefix else 0
    value = float(number) * (1024 if binary else 1000) ** power
    if not value >= 1:
        raise ValueError(text)
    return int(value)
