"""Codes of the population fields and the shipped region tables (package data).

A region table is a CSV in ``scsim/data/regions/`` with the header
``name,share,urban_share,income_level,camera_density``; its rows are the regions in id order
(region ``r`` of a citizen is row ``r``). ``SOURCES.md`` beside the tables names every figure's
source and every assumption.
"""

from __future__ import annotations

import csv
import io
import math
from functools import cache
from importlib import resources

import numpy as np

ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_PARENT, ROLE_OTHER, ROLE_GRANDCHILD = range(6)
ROLE_NAMES = ("head", "spouse", "child", "parent", "other", "grandchild")
"""``role`` codes (uint8): relation to the household head (child, parent and grandchild *of
the head*; other: another relative, an in-law or a non-relative)."""

SEX_FEMALE, SEX_MALE = 0, 1
SEX_NAMES = ("female", "male")

EDU_NONE, EDU_PRIMARY, EDU_JUNIOR, EDU_SENIOR, EDU_TERTIARY = range(5)
EDUCATION_NAMES = ("none", "primary", "junior_secondary", "senior_secondary", "tertiary")
"""``education`` codes (uint8): highest level attained or in progress."""

OCC_NONE, OCC_STUDENT, OCC_RETIRED = range(3)
RESERVED_OCCUPATIONS = ("none", "student", "retired")
"""``occupation`` codes 0-2; the scenario's catalogue entries follow from code 3 in order."""

MAX_AGE = 100
"""Ages are whole years in ``0..MAX_AGE`` (uint8)."""

HEAD_MIN_AGE = 20
"""Youngest household head or spouse (China's legal marriage age for women; an assumption)."""

MAX_HOUSEHOLD = 8
"""Largest generated household (the ``regional`` network's convention)."""

COLUMNS = ("name", "share", "urban_share", "income_level", "camera_density")


def adults(people, min_age: int) -> np.ndarray:
    """True for the process's own citizens (``people.own``) aged ``min_age`` or more (every one
    without the population's ``age``); False beyond them, whose pages stay untouched on an MPI
    rank that keeps only its own citizens."""
    lo, hi = people.own
    out = people.full(False, np.bool_)
    age = people.fields.get("age")
    out[lo:hi] = True if age is None else age[lo:hi] >= min_age
    return out


def _tables_dir():
    return resources.files("scsim.data").joinpath("regions")


@cache
def region_table_names() -> tuple[str, ...]:
    """Names of the shipped region tables (the CSV files' stems), sorted."""
    return tuple(
        sorted(
            f.name.removesuffix(".csv") for f in _tables_dir().iterdir() if f.name.endswith(".csv")
        )
    )


def _bad(name: str, row: int, column: str, value: str, expected: str) -> ValueError:
    return ValueError(
        f"region table {name!r}, row {row}, {column}: {value!r} is not allowed; expected {expected}"
    )


def _number(name: str, row: int, column: str, value: str, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except ValueError:
        x = math.nan
    if not (math.isfinite(x) and lo <= x <= hi):
        raise _bad(name, row, column, value, f"a number in [{lo:g}, {hi:g}]")
    return x


@cache
def _read(name: str) -> dict[str, tuple]:
    text = _tables_dir().joinpath(f"{name}.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(c.strip() for c in rows[0]) != COLUMNS:
        raise ValueError(f"region table {name!r}: the header must be {','.join(COLUMNS)}")
    out: dict[str, list] = {c: [] for c in COLUMNS}
    for k, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(COLUMNS):
            raise ValueError(f"region table {name!r}, row {k}: expected {len(COLUMNS)} columns")
        region = row[0].strip()
        if not region or region in out["name"]:
            raise _bad(name, k, "name", region, "a non-empty name not used by another row")
        out["name"].append(region)
        out["share"].append(_number(name, k, "share", row[1], 1e-12, math.inf))
        out["urban_share"].append(_number(name, k, "urban_share", row[2], 0.0, 1.0))
        out["income_level"].append(_number(name, k, "income_level", row[3], 1e-6, 1e6))
        out["camera_density"].append(_number(name, k, "camera_density", row[4], 0.0, 1e6))
    if not 1 <= len(out["name"]) <= 2**16:
        raise ValueError(f"region table {name!r}: expected 1 to 65536 regions")
    return {c: tuple(v) for c, v in out.items()}


def load_region_table(name: str) -> dict[str, np.ndarray]:
    """A shipped region table as arrays: ``name`` (str), ``share`` (normalised to sum 1),
    ``urban_share``, ``income_level`` and ``camera_density`` (float64)."""
    if name not in region_table_names():
        raise ValueError(
            f"expected one of the shipped region tables: {', '.join(region_table_names())}"
        )
    raw = _read(name)
    share = np.array(raw["share"], dtype=np.float64)
    return {
        "name": np.array(raw["name"], dtype=str),
        "share": share / share.sum(),
        **{c: np.array(raw[c], dtype=np.float64) for c in COLUMNS[2:]},
    }


def region_shares(name: str) -> list[float]:
    """The population shares of a shipped table, e.g. for ``network.region_shares``."""
    return load_region_table(name)["share"].tolist()


def _truncated(q: np.ndarray, m: int) -> np.ndarray:
    """``q`` restricted to levels >= m and renormalised (all on the top level if none)."""
    t = np.where(np.arange(q.size) >= m, q, 0.0)
    if t.sum() <= 0:
        t[-1] = 1.0
    return t / t.sum()


def education_draw_shares(target: np.ndarray, floors: np.ndarray, rounds: int = 200):
    """Shares ``q`` to draw adults' education from so that, when an adult whose occupation
    needs level ``m`` or more draws from ``q`` truncated at ``m`` (``floors[m]`` adults),
    the expected shares of all adults are ``target`` (when it is feasible; else as close as
    the multiplicative fixed-point iteration gets)."""
    t = target / target.sum()
    w = floors / max(floors.sum(), 1)
    q = t.copy()
    for _ in range(rounds):
        got = sum(w[m] * _truncated(q, m) for m in range(q.size))
        q = np.where(got > 0, q * t / np.where(got > 0, got, 1.0), q)
        q /= q.sum()
    return q
