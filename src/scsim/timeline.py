"""The policy timeline (mission row 18): dated changes of a scenario's parameters, and amnesties.

A scenario's ``timeline:`` lists events, each on a ``day`` of the run:

- ``set: {modules.lists.blacklist_below: 520, ...}``: dotted paths into the scenario's
  ``modules`` block (list entries by index, ``modules.infractions.kinds.0.rate``). The changes
  apply before that day's pass, so they act from that day on.
- ``amnesty: {listings: true, records: false}``: carried out by the policy module during that
  day's pass (``scsim.modules.policy``).

Events apply in day order (events of one day in the order listed), cumulatively. They are
validated when the scenario loads: a path must name one parameter of a module the scenario
runs, and the scenario with the changed values must validate. A change that would alter the
fused day kernel's structure is refused: switching a module on or off, a field its parameter
class declares ``fixed`` (drawn or allocated once before day 0), or anything that changes a
module's hooks, records, events or causes. To bring in a rule mid-run, declare its module from
day 0 with neutral values (e.g. ``blacklist_below: 0``) and set the values here. Mid-run,
modules take new values through ``Module.update``; the kernel is never recompiled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from scsim.params import Strict
from scsim.protocol.flags import AMNESTY_LISTINGS, AMNESTY_RECORDS

if TYPE_CHECKING:
    from scsim.protocol.host import Host

Scenario = BaseModel
"""A scenario (``scsim.scenario.Scenario``, which reads this module to validate its timeline)."""
Modules = BaseModel
"""A scenario's modules block (``scsim.scenario.Modules``)."""


class TimelineError(ValueError):
    """A timeline event that cannot be applied; the message names event, path, value, rule."""


class Amnesty(Strict):
    listings: bool = Field(
        default=True, description="clear every blacklist listing held at the start of the day"
    )
    records: bool = Field(
        default=False,
        description="restore the penalty points of every record on file (needs modules.expiry)",
    )


class TimelineEvent(Strict):
    day: int = Field(ge=0, le=36499, description="the day the event takes effect")
    set: dict[str, Any] = Field(
        default_factory=dict,
        description="dotted paths into the modules block and their new values",
    )
    amnesty: Amnesty | None = Field(default=None, description="clear listings and/or records")

    @model_validator(mode="after")
    def _something(self) -> TimelineEvent:
        if not self.set and self.amnesty is None:
            raise ValueError("expected set: {<path>: <value>} and/or amnesty: {...}")
        return self


def configs(scenario: Scenario) -> list[tuple[int, TimelineEvent, Modules]]:
    """Every event with the modules block in force after it, in the order events apply.
    Raises ``TimelineError`` for the first event that cannot be applied. Events dated after
    the run's last day are checked too (a shortened run keeps its timeline valid) but never
    fire; ``beyond_run`` names them."""
    base = scenario.model_dump(mode="json", exclude={"timeline"})
    enabled = {n for n, p in scenario.modules if p is not None and p.enabled}
    order = sorted(range(len(scenario.timeline)), key=lambda k: scenario.timeline[k].day)
    out = []
    current = scenario.modules
    for k in order:
        event = scenario.timeline[k]
        where = f"timeline[{k}]"
        if event.amnesty is not None:
            _check_amnesty(where, event.amnesty, enabled)
        if event.set:
            data = current.model_dump(mode="json")
            for path, value in event.set.items():
                _set(data, f"{where}.set.{path}", path, value, scenario.modules, enabled)
            current = _validated(scenario, base, data, where)
            _check_structure(where, event, scenario.modules, current)
        out.append((event.day, event, current))
    return out


def beyond_run(scenario: Scenario) -> list[str]:
    """One line per timeline event dated after the run's last day (it will not happen)."""
    last = scenario.days - 1
    return [
        f"timeline[{k}] (day {event.day}) falls after the run's last day ({last}): not applied"
        for k, event in enumerate(scenario.timeline)
        if event.day > last
    ]


def _check_amnesty(where: str, amnesty: Amnesty, enabled: set[str]) -> None:
    needs = [("policy", "it carries out and records amnesties")]
    if amnesty.listings:
        needs.append(("lists", "amnesty.listings clears its listings"))
    if amnesty.records:
        needs.append(("expiry", "amnesty.records restores the points it keeps on file"))
    for module, why in needs:
        if module not in enabled:
            raise TimelineError(f"{where}.amnesty: needs modules.{module} ({why}); add it")


def _set(data: dict, where: str, path: str, value: Any, modules: BaseModel, enabled) -> None:
    """Check one dotted path against the parameter models and set it in ``data``."""
    parts = path.split(".")
    if len(parts) < 3 or parts[0] != "modules":
        raise TimelineError(
            f"{where}: is not a parameter path; expected modules.<module>.<parameter>, "
            "e.g. modules.lists.blacklist_below"
        )
    module = parts[1]
    if module not in type(modules).model_fields:
        raise TimelineError(
            f"{where}: {module!r} is not a module; expected one of {sorted(enabled)}"
        )
    if module not in enabled:
        raise TimelineError(
            f"{where}: modules.{module} is not on in this scenario, and a module cannot be "
            "switched on or off mid-run (it changes the fused day kernel); declare it from day 0 "
            "with neutral values and change its parameters here"
        )
    if parts[2] == "enabled":
        raise TimelineError(
            f"{where}: modules.{module} is on from day 0 and cannot be switched off mid-run (it "
            "changes the fused day kernel); set its parameters to neutral values instead"
        )
    if isinstance(value, (list, dict)):
        raise TimelineError(
            f"{where}: a list or mapping is not allowed; expected one value (set entries one "
            "by one, e.g. modules.infractions.kinds.0.rate)"
        )
    obj: Any = getattr(modules, module)
    node: Any = data[module]
    prefix = f"modules.{module}"
    for depth, part in enumerate(parts[2:]):
        last = depth == len(parts) - 3
        if isinstance(obj, BaseModel):
            fields = type(obj).model_fields
            if part not in fields:
                raise TimelineError(
                    f"{where}: {part!r} is not a parameter of {prefix}; expected one of "
                    f"{sorted(f for f in fields if f != 'enabled')}"
                )
            reason = type(obj).fixed.get(part) or type(obj).fixed.get("*")
            if reason:
                raise TimelineError(f"{where}: cannot change mid-run: {reason}")
            obj = getattr(obj, part)
        elif isinstance(obj, list):
            if not part.isdigit() or int(part) >= len(obj):
                raise TimelineError(
                    f"{where}: {part!r} is not an entry of {prefix}; expected an index from 0 "
                    f"to {len(obj) - 1}"
                )
            part = int(part)
            obj = obj[part]
        elif isinstance(obj, dict):
            obj = obj.get(part)
        else:
            raise TimelineError(f"{where}: {prefix} is a single value, not a block")
        if last:
            if isinstance(obj, (BaseModel, list, dict)):
                raise TimelineError(
                    f"{where}: is a block, not a single value; set one of its parameters"
                )
            node[part] = value
        else:
            node = node[part]
        prefix = f"{prefix}.{part}"


def _validated(scenario: Scenario, base: dict, data: dict, where: str) -> Modules:
    """The modules block after an event, validated with the rest of the scenario."""
    from scsim.validation import describe

    try:
        return type(scenario).model_validate({**base, "modules": data}).modules
    except ValidationError as err:
        raise TimelineError(f"{where}.set: {describe(err.errors()[0])}") from None


def _shape(name: str, params: Any) -> tuple | None:
    """What a module contributes to the fused kernel's structure (None: not computable
    before the simulation is built)."""
    from scsim.modules import REGISTRY

    if name not in REGISTRY:  # a module of one's own: its shape is its author's to keep
        return None
    cls = REGISTRY[name]
    try:
        m = cls(params, None)
        hooks = tuple(getattr(h, "__func__", h) for h in (m.delta, m.after))
        return (cls.has_delta(params), hooks, m.component, tuple(m.records), tuple(m.events),
                tuple(m.causes), bool(m.reads_public))  # fmt: skip
    except Exception:  # a module whose constructor needs the simulation: checked at build
        return None


def _check_structure(where: str, event: TimelineEvent, first: Modules, now: Modules) -> None:
    for name in sorted({path.split(".")[1] for path in event.set}):
        before, after = getattr(first, name), getattr(now, name)
        if _shape(name, before) != _shape(name, after):
            paths = ", ".join(p for p in event.set if p.split(".")[1] == name)
            raise TimelineError(
                f"{where}.set: {paths} would change the fused day kernel (the hooks, records, "
                f"events or causes of modules.{name}), which is built before day 0; set it in "
                f"modules.{name} from day 0"
            )


class Timeline:
    """The scenario's timeline as the engine applies it: parameter changes and amnesties."""

    def __init__(self, scenario: Scenario) -> None:
        self.changes: dict[int, Modules] = {}
        self.amnesties: dict[int, int] = {}
        for day, event, modules in configs(scenario):
            if event.set:
                self.changes[day] = modules
            if event.amnesty is not None:
                a = event.amnesty
                mask = AMNESTY_LISTINGS if a.listings else 0
                mask |= AMNESTY_RECORDS if a.records else 0
                self.amnesties[day] = self.amnesties.get(day, 0) | mask

    def apply(self, sim: Host, day: int) -> bool:
        """Put the day's parameter changes in force (before its pass); True if there were."""
        modules = self.changes.get(day)
        if modules is None:
            return False
        sim.config = modules
        for m in sim.modules:
            m.update(getattr(modules, m.name))
        return True

    def amnesty(self, day: int) -> int:
        """The day's amnesty mask (``AMNESTY_LISTINGS | AMNESTY_RECORDS`` bits; 0: none)."""
        return self.amnesties.get(day, 0)
