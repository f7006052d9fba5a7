"""The module protocol: what every mechanic provides to the engine.

A module is a Python class holding its parameters and state, plus up to two numba hooks that
the engine fuses into one parallel pass over agents per day (see ``scsim.fusion``):

- ``delta(a, rec, ev, ...) -> float32``: the module's contribution to today's score change.
  The engine adds it to the module's score component (``component``, one array per component).
- ``after(a, score, rec, ev, ...) -> uint8``: react to the agent's new score (list, sanction,
  reward, ...); return the public flag bits (``SANCTIONED``, ``LISTED``, ...) that neighbours
  see tomorrow.

After the leading parameters, a hook names what it reads: the module's declared ``fields``,
``col_<record>`` columns and ``kind_<event>`` codes (``scsim.protocol.declare``); the kernel
passes them by name. ``a`` is an ``Agent``: the engine's view of one agent on one day, read
from yesterday's state (synchronous update). ``rec`` is the record table of the agent's block,
one row per region: hooks count with ``rec[a.region, col_x] += 1``; the engine sums blocks in
order, so records are bit-identical for any thread count. ``ev`` is the block's event buffer:
hooks log what happens to audited agents with ``emit``.

Verbs called by the engine, in order: ``init()`` once before day 0 (after the engine has
allocated the declared state), ``kernel_values(day)`` before each day's pass, ``finish(day)``
after it (serial follow-up such as delivering records to other citizens). On a day the
scenario's ``timeline`` changes parameters, ``update(params)`` runs before the day's values are
read: it takes the new values and calls ``refresh()``, which a module that caches
parameter-derived values overrides to recompute them (same dtypes and shapes: the fused kernel
is never recompiled mid-run).

Hooks are ``@njit(inline="always")``; the fused kernel compiles each one on its own with
``scsim.fusion.HOOK_OPTIONS`` (LLVM inlines it; no reference counting, so a hook allocates no
array).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from scsim.protocol.declare import ContractError, Field, PerAgent, Record, Scalar
from scsim.rng import stream_day_key

if TYPE_CHECKING:
    from scsim.protocol.host import Host

LEAD = {"delta": ("a", "rec", "ev"), "after": ("a", "score", "rec", "ev")}
"""The parameters every hook of each kind starts with."""


class Module:
    """Base class of a mechanic. Subclasses set the class attributes and override the verbs."""

    name: ClassVar[str]
    phase: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]] = ()
    """What the hooks read besides records and event kinds (``scsim.protocol.declare``)."""
    requires: ClassVar[tuple[str, ...]] = ()
    """Modules whose state this one reads; the scenario is refused without them."""
    records: ClassVar[tuple[Record, ...]] = ()
    """The module's record columns (per day and region in the timeseries), in order."""
    events: ClassVar[tuple[str, ...]] = ()
    """Names of the module's event kinds."""
    false_events: ClassVar[tuple[str, ...]] = ()
    """Those of ``events`` that make a false record (the look-up singles them out)."""
    offence: ClassVar[bool] = False
    """True if the module's negative deltas are records of misconduct (``Agent.recorded``)."""
    makes_people: ClassVar[bool] = False
    """True if ``init`` draws who the citizens are (the engine runs it before the network's
    last step, which may read the people, and before every other module's ``init``)."""
    gated: ClassVar[bool] = True
    """False if the hooks of a lists- or sanctions-phase module run for every citizen, not only
    those enrolled in the system (bookings: everyone travels)."""
    reads_public: ClassVar[bool] = False
    """True if a hook reads ``nb_listed`` or ``nb_offended`` (costs one more gather)."""
    shared: ClassVar[tuple[str, ...]] = ()
    """Per-agent fields the module's hooks write and other citizens' hooks or a serial
    ``finish`` read: people fields, or the module's own arrays of that name (MPI ranks copy
    them to each other after every day, ``scsim.ranks``; see ``shared_arrays``)."""
    reach: ClassVar[str] = "anyone"
    """Whose per-day state the module reads besides its own citizen's: "own" (no one else's
    but the few ``ghosts`` names), "ties" (also its network neighbours', through the agent
    view or the graph's rows) or "anyone" (a stranger, every citizen in ``finish``). Over
    several MPI ranks, when no module reaches "anyone", the ranks exchange only the state of
    the citizens tied to theirs and the ghosts (a halo, ``scsim.ranks``) instead of
    everyone's; "anyone", the safe default for a module of one's own, keeps everyone's."""
    splits: ClassVar[bool] = True
    """False if the module cannot yet run over several MPI ranks (the run is refused)."""
    edits_ties: ClassVar[bool] = False
    """True if the module cuts or forms ties: the network is then held in CSR form, never by
    its ring (``scsim.network.ring``)."""
    delta: ClassVar[Any] = None
    after: ClassVar[Any] = None

    def __init__(self, params: Any, sim: Host) -> None:
        self.params = params
        self.sim = sim
        self.columns: dict[str, int] = {}  # col_<record> -> column, assigned by the engine
        self.kinds: dict[str, int] = {}  # kind_<event> -> code, assigned by the engine
        self.state: dict[str, np.ndarray] = {}  # declared state the engine allocated

    @classmethod
    def has_delta(cls, params: Any) -> bool:
        """Whether a module with these parameters fuses a ``delta`` hook (a score component)."""
        return cls.delta is not None

    @property
    def component(self) -> str | None:
        """The score component the ``delta`` hook feeds (the module's name)."""
        return self.name if self.delta is not None else None

    @property
    def causes(self) -> tuple[str, ...]:
        """Names of event causes (catalogue entries, departments ...) by index."""
        return ()

    @property
    def weight(self) -> float:
        """The scenario's weight of this module's score component (scoring.weights)."""
        return self.sim.config.scoring.weights.get(self.name, 1.0)

    def init(self) -> None:
        """Initialise state before day 0 (the declared state is allocated by then)."""

    def kernel_values(self, day: int) -> dict[str, Any]:
        """Values of the declared fields that are not allocated state or people fields."""
        return {}

    def finish(self, day: int) -> None:
        """Serial work after the day's pass (default: nothing)."""

    def release(self) -> None:
        """After the last day (``Sim.release_network``): drop the values kept for the pass."""
        self._forget_kernel_values()

    def _forget_kernel_values(self) -> None:
        """Drop the planned kernel values (``kernel_args`` plans them again when next asked)."""
        self.__dict__.pop("_plan", None)

    def ghosts(self, lo: int, hi: int) -> np.ndarray:
        """Citizens outside ``[lo, hi)``, not tied to one inside, whose per-day state the
        module reads for the citizens inside (ascending int64; ``reach`` "own" or "ties")."""
        return np.empty(0, dtype=np.int64)

    def shared_arrays(self) -> list[np.ndarray]:
        """The arrays of ``shared``: each a people field, or else this module's own array."""
        fields = self.sim.people.fields
        return [fields[f] if f in fields else getattr(self, f) for f in self.shared]

    def rebuilt_arrays(self) -> list[np.ndarray]:
        """Per-agent arrays outside the declared state that ``finish`` rebuilds for the
        process's own citizens and their next day reads: a checkpoint over MPI ranks takes
        each citizen's entry from the rank that owns it (``scsim.ranks``)."""
        return []

    def update(self, params: Any) -> None:
        """Take parameter values changed mid-run by the timeline (before the day's pass). The
        kernel values kept for the pass go first (they are planned again after a change), so
        what ``refresh`` rebuilds does not sit beside the old in memory."""
        self.params = params
        self._forget_kernel_values()  # not release(): a module may free more there (shunning)
        self.refresh()

    def refresh(self) -> None:
        """Recompute values derived from the parameters in ``init`` (default: none cached)."""

    def day_key(self, stream: str, day: int) -> np.uint64:
        """Key of this module's named sub-stream on ``day`` (common random numbers)."""
        return stream_day_key(self.sim.seed, f"{self.name}.{stream}", day)

    def day_keys(self, streams: list[str], day: int) -> np.ndarray:
        """Day keys of several sub-streams (one per catalogue entry), as a uint64 array."""
        return np.array([self.day_key(s, day) for s in streams], dtype=np.uint64)

    def __getstate__(self) -> dict:
        """What a checkpoint keeps (``scsim.checkpoint``): all but the plan of
        ``kernel_args``, which the first day after loading makes again."""
        state = dict(self.__dict__)
        state.pop("_plan", None)
        return state

    def column(self, record: str) -> int:
        """The record table column of one of this module's records (or groups)."""
        return self.columns[f"col_{record}"]

    # -- the contract with the engine ------------------------------------------------------

    def record_list(self) -> list[Record]:
        """The module's records, each a ``Record`` (its label and unit reach every reader)."""
        bare = [r for r in self.records if not isinstance(r, Record)]
        if bare:
            raise ContractError(
                f"module {self.name!r}: record {bare[0]!r} is not a scsim.protocol.Record "
                "(give it a label and a unit)"
            )
        return list(self.records)

    def hooks(self) -> dict[str, Any]:
        """The module's hooks by kind ("delta", "after")."""
        return {k: h for k, h in (("delta", self.delta), ("after", self.after)) if h is not None}

    def kernel_fields(self) -> tuple[str, ...]:
        """The names the hooks read after their leading parameters (the kernel's parameters
        for this module, each passed as ``<module>_<name>``), in order of first use."""
        # by the hooks' functions: a hook read from an instance is a method bound to it, and a
        # cache keyed by it would keep every Sim alive
        key = (type(self), *(getattr(h, "__func__", h) for h in (self.delta, self.after)))
        if key not in _FIELDS:
            _FIELDS[key] = self._hook_params()
        return _FIELDS[key]

    def _hook_params(self) -> tuple[str, ...]:
        names: dict[str, None] = {}
        for kind, hook in self.hooks().items():
            params = tuple(inspect.signature(hook.py_func).parameters)
            if params[: len(LEAD[kind])] != LEAD[kind]:
                raise ContractError(
                    f"module {self.name!r}: its {kind} hook must start with {LEAD[kind]}, "
                    f"not {params[: len(LEAD[kind])]}"
                )
            names.update(dict.fromkeys(params[len(LEAD[kind]) :]))
        return tuple(names)

    def allocate(self) -> None:
        """Allocate the declared state (``PerAgent`` fields with a ``fill``) on the people."""
        people = self.sim.people
        for f in self.fields:
            if not isinstance(f, PerAgent) or f.fill is None:
                continue
            if f.rows is None:
                self.state[f.name] = people.add(f.name, people.full(f.fill, f.dtype))
                continue
            labels = getattr(self, f.rows)
            array = people.full(f.fill, f.dtype, rows=len(labels))
            for k, label in enumerate(labels):  # one people field per row
                people.add(f"{f.name}_{label}", array[k])
            self.state[f.name] = array

    def kernel_args(self, day: int, check: bool = False) -> tuple:
        """The values of ``kernel_fields()`` on ``day`` (scalars as their declared dtype);
        ``check``: also check every value against its declaration (when the kernel is built and
        after a timeline change), and plan where each value comes from for the days after."""
        given = self.kernel_values(day)
        plan = None if check else self.__dict__.get("_plan")
        if plan is not None:
            values = plan[0].copy()
            try:
                for k, name, cast in plan[1]:
                    values[k] = given[name] if cast is None else cast(given[name])
                return tuple(values)
            except KeyError:  # kernel_values gives other names today: plan again
                pass
        declared = {f.name: f for f in self.fields}
        if check and set(given) - set(declared):
            raise ContractError(
                f"module {self.name!r}: kernel_values gives {sorted(set(given) - set(declared))}"
                f", which no field declares (declared: {sorted(declared)})"
            )
        values, dynamic = [], []
        for name in self.kernel_fields():
            value, f = self._value(name, declared, given)
            if f is not None and (check or isinstance(f, Scalar)):
                value = f.check(self.name, value, self.sim.n)
            if name in given:  # else a column, a kind, state, a people field: fixed
                cast = np.dtype(f.dtype).type if isinstance(f, Scalar) else None
                dynamic.append((len(values), name, cast))
            values.append(value)
        # the fast path takes what kernel_values gives as it is (scalars cast to their dtype):
        # checked on the days above
        self._plan = (values, dynamic)
        return tuple(values)

    def _value(
        self, name: str, declared: dict[str, Field], given: dict[str, Any]
    ) -> tuple[Any, Field | None]:
        if name in self.columns:
            return np.int64(self.columns[name]), None
        if name in self.kinds:
            return np.int64(self.kinds[name]), None
        f = declared.get(name)
        if f is None:
            raise ContractError(
                f"module {self.name!r}: a hook reads {name!r}, which is neither a declared "
                f"field ({sorted(declared)}), a record column ({sorted(self.columns)}) nor an "
                f"event kind ({sorted(self.kinds)})"
            )
        if name in given:
            value = given[name]
        elif name in self.state:
            value = self.state[name]
        elif isinstance(f, PerAgent) and name in self.sim.people.fields:
            value = self.sim.people.fields[name]
        elif isinstance(f, PerAgent) and f.optional:
            value = f.stand_in()
        else:
            raise ContractError(
                f"module {self.name!r}: no value for field {name!r} (give it in kernel_values, "
                "declare a fill, or mark it optional)"
            )
        return value, f


_FIELDS: dict[tuple, tuple[str, ...]] = {}
"""Each module class's kernel fields (read from its hooks' signatures once)."""
