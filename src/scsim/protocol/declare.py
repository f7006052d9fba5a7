"""What a module declares once: the fields its hooks read and the records it keeps.

A hook names what it reads in its own signature (after ``a, rec, ev`` or ``a, score, rec, ev``);
the fused kernel passes each of those by name. Every name is one of:

- a declared **field** of the module (``PerAgent``, ``Table`` or ``Scalar``), checked for dtype
  and shape when the kernel is built;
- ``col_<record>`` or ``col_<group>``: the record table column of one of the module's records,
  or the first column of a group of them (one per sanction tier, per perk ...), derived from
  the order of ``records``;
- ``kind_<event>``: the event-kind code of one of the module's ``events``.

A ``PerAgent`` field with a ``fill`` is state the engine allocates before ``init`` (one people
field, or one per row); without one, its array is what ``kernel_values`` gives, or the people
field of that name (another module's state), or, when ``optional``, a one-element stand-in the
hooks must not index (they check the flag that says the state exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np


class ContractError(TypeError):
    """A module's hooks, declarations and values disagree (a bug in the module, not in a
    scenario): raised when the kernel is built, naming the module, the field and the fix."""


@dataclass(frozen=True)
class Field:
    """One value the hooks read: its name (the hooks' parameter name) and dtype."""

    name: str
    dtype: Any
    doc: str = ""

    def check(self, module: str, value: Any, n: int) -> Any:
        """``value`` as the kernel takes it; raises ``ContractError`` when it does not fit."""
        raise NotImplementedError

    def _fail(self, module: str, expected: str, value: Any) -> ContractError:
        got = (
            f"an array of {value.dtype} with shape {value.shape}"
            if isinstance(value, np.ndarray)
            else f"{type(value).__name__} {value!r}"
        )
        return ContractError(
            f"module {module!r}, field {self.name!r}: expected {expected}, got {got}"
        )


@dataclass(frozen=True)
class PerAgent(Field):
    """A per-agent array: shape (n,), or (rows, n) with ``rows``."""

    fill: float | int | bool | None = None
    """Initial value of state the engine allocates (None: the module or another one does)."""
    rows: str | None = None
    """Name of the module attribute listing the row labels (tiers, perks ...): the array is
    (rows, n) and row k is the people field ``<name>_<label>``."""
    optional: bool = False
    """May be absent (then a one-element stand-in is passed)."""

    def check(self, module: str, value: Any, n: int) -> Any:
        ndim = 2 if self.rows else 1
        shape = "(rows, n)" if self.rows else "(n,)"
        expected = f"a C-contiguous {np.dtype(self.dtype)} array of shape {shape}, n = {n}"
        if not isinstance(value, np.ndarray) or value.dtype != self.dtype or value.ndim != ndim:
            raise self._fail(module, expected, value)
        if not value.flags.c_contiguous or (value.shape[-1] != n and not _stand_in(self, value)):
            raise self._fail(module, expected, value)
        return value

    def stand_in(self) -> np.ndarray:
        """What the hooks get when optional state is absent (never indexed)."""
        return np.zeros((1, 1) if self.rows else 1, dtype=self.dtype)


def _stand_in(f: PerAgent, value: np.ndarray) -> bool:
    return f.optional and value.size == 1


@dataclass(frozen=True)
class Table(Field):
    """An array derived from the parameters (thresholds per tier, a catalogue ...)."""

    ndim: int = 1

    def check(self, module: str, value: Any, n: int) -> Any:
        if (
            not isinstance(value, np.ndarray)
            or value.dtype != self.dtype
            or value.ndim != self.ndim
        ):
            raise self._fail(module, f"a {self.ndim}-D {np.dtype(self.dtype)} array", value)
        return value


@dataclass(frozen=True)
class Scalar(Field):
    """One number or flag, taken as the declared dtype (an int for a float is fine; a float
    for an int, or an array, is not)."""

    def check(self, module: str, value: Any, n: int) -> Any:
        kind = np.dtype(self.dtype).kind
        ok = {
            "b": (bool, np.bool_),
            "i": (int, np.integer),
            "u": (int, np.integer),
            "f": (int, float, np.integer, np.floating),
        }[kind]
        if isinstance(value, np.ndarray) or not isinstance(value, ok):
            raise self._fail(module, f"a {np.dtype(self.dtype)} scalar", value)
        if kind != "b" and isinstance(value, bool | np.bool_):
            raise self._fail(module, f"a {np.dtype(self.dtype)} scalar", value)
        return np.dtype(self.dtype).type(value)


Kind = Literal["stock", "flow", "measure"]


@dataclass(frozen=True)
class Record:
    """One record column (per day and region), with what a reader needs to understand it."""

    name: str
    label: str
    """What it counts, in words people use ("citizens banned from flying")."""
    unit: str = "citizens"
    """What one count is: "citizens", "acts", "bookings", "points" ..."""
    kind: Kind = "stock"
    """stock: how many are in a state that day (read its last or peak value); flow: how many
    things happened that day (read its total); measure: a decimal sum (float64)."""
    group: str | None = None
    """Records of one group are contiguous; ``col_<group>`` is the first one's column."""
    section: str = "other"
    """Report section: "lists", "sanctions", "perks", "speech", "behaviour", "network",
    "courts", "travel", "other"."""
    false: bool = False
    """Counts false records or wrongful listings (the look-up and report single them out)."""
    headline: bool = False
    """A headline outcome: in the report's summary and compared by ``compare``."""
    meta: dict = field(default_factory=dict, compare=False)
    """Anything else a reader may need (the tier or perk it belongs to)."""

    @property
    def integer(self) -> bool:
        """Written as int64 (counts) rather than float64 (measures)."""
        return self.kind != "measure"

    def describe(self) -> dict[str, Any]:
        """The record's metadata as written beside the run's outputs."""
        out = {"label": self.label, "unit": self.unit, "kind": self.kind, "section": self.section}
        out |= {"false": True} if self.false else {}
        out |= {"headline": True} if self.headline else {}
        return out | ({"group": self.group} if self.group else {}) | self.meta


def columns(records: list[Record], first: int) -> dict[str, int]:
    """``col_<name>`` and ``col_<group>`` -> absolute column, for records starting at
    ``first``; a group must be contiguous."""
    names = {r.name for r in records}
    clash = sorted(names & {r.group for r in records if r.group})
    if clash:
        raise ContractError(f"record {clash[0]!r} has a group's name (col_{clash[0]} is ambiguous)")
    cols: dict[str, int] = {}
    seen_groups: dict[str, int] = {}
    for k, r in enumerate(records):
        if r.name.isidentifier():
            cols[f"col_{r.name}"] = first + k
        if r.group is not None:
            if r.group in seen_groups and seen_groups[r.group] != k - 1:
                raise ContractError(f"record group {r.group!r} is not contiguous (at {r.name!r})")
            seen_groups[r.group] = k
            cols.setdefault(f"col_{r.group}", first + k)
    return cols


def place_records(modules: list, first: tuple[Record, ...]) -> list[Record]:
    """Every record in column order: ``first`` (the engine's), then each module's; sets each
    module's first column ``col`` and its ``columns`` (``columns``)."""
    specs = list(first)
    for m in modules:
        m.col = len(specs)
        mine = m.record_list()
        m.columns = columns(mine, m.col)
        specs.extend(mine)
    names = [r.name for r in specs]
    if len(set(names)) != len(names):
        twice = sorted({x for x in names if names.count(x) > 1})
        raise ContractError(f"records {twice} are kept by more than one module")
    return specs


def place_events(modules: list) -> list[tuple[str, str]]:
    """Every event kind as (module, kind) in kind order; sets each module's first kind
    ``evk`` and its ``kinds`` (``kind_<name>`` -> kind)."""
    kinds: list[tuple[str, str]] = []
    for m in modules:
        m.evk = len(kinds)
        m.kinds = {f"kind_{kind}": m.evk + k for k, kind in enumerate(m.events)}
        kinds.extend((m.name, kind) for kind in m.events)
    return kinds
