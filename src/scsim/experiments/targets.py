"""The targets file of ``scsim calibrate``: published figures, each with its source, the simulated
day it refers to, a measure (SQL over one run's views, ``{day}`` replaced by the day) and a
tolerance; and the parameters to fit, each with a range.

``load_targets(path, scenario, ...)`` checks the file and every parameter against the scenario
and returns a ``Problem``, or raises ``SweepError`` naming the entry.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from scsim.experiments.spec import Outcome, Parameter, SweepError, Varied, _read, resolve
from scsim.params import Name, Strict
from scsim.scenario import Scenario
from scsim.validation import describe

FINAL_STATE = re.compile(r"\bpeople\b", re.IGNORECASE)
"""A measure that reads the ``people`` view (not ``timeseries_people``): the last day's state."""


class Target(Strict):
    value: float = Field(allow_inf_nan=False, description="the published figure")
    source: str = Field(min_length=1, description="publication and date")
    day: int = Field(ge=0, description="the simulated day the figure refers to")
    sql: str = Field(min_length=1, description="the measure; {day} is replaced by day")
    tolerance: float = Field(gt=0, allow_inf_nan=False, description="in the value's units")
    why: str = Field(default="", description="why this tolerance")
    label: str | None = None
    weight: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    bound: Literal["equal", "at_most", "at_least"] = Field(
        default="equal",
        description="equal: the measure should equal the figure; at_most / at_least: the "
        "figure is a ceiling / floor (it counts more, or less, than the measure), so only a "
        "measure above / below it is a miss",
    )

    @field_validator("sql")
    @classmethod
    def _placeholders(cls, sql: str) -> str:
        try:
            sql.format(day=0)
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"only {{day}} may appear in braces ({e})") from None
        return sql

    def measure(self) -> Outcome:
        return Outcome(sql=self.sql.format(day=self.day), label=self.label)

    def miss(self, achieved: float) -> float:
        """How far ``achieved`` misses the figure, in tolerances (0 on a bound's allowed side)."""
        off = (achieved - self.value) / self.tolerance
        if self.bound == "at_most":
            return max(off, 0.0)
        if self.bound == "at_least":
            return max(-off, 0.0)
        return abs(off)

    def within(self, achieved: float) -> bool:
        """Whether ``achieved`` is within the tolerance (of the figure, or of its bound)."""
        return self.miss(achieved) <= 1.0

    @property
    def relation(self) -> str:
        """What a report writes before the figure: "≤ " for a ceiling, "≥ " for a floor."""
        return {"equal": "", "at_most": "≤ ", "at_least": "≥ "}[self.bound]


class FitParameter(Parameter):
    log: bool = Field(default=False, description="sample on a log scale (low must be > 0)")


class TargetsFile(Strict):
    description: str = ""
    targets: dict[Name, Target] = Field(min_length=1)
    parameters: dict[str, FitParameter] = Field(min_length=1)


@dataclass(frozen=True)
class Problem:
    """A calibration: the scenario (size and seed set), the targets, the fitted parameters."""

    base: Scenario
    name: str
    targets: dict[str, Target]
    varied: list[Varied]
    file: TargetsFile

    @property
    def outcomes(self) -> dict[str, Outcome]:
        return {name: t.measure() for name, t in self.targets.items()}

    def digest(self) -> str:
        blob = json.dumps(
            {"targets": self.file.model_dump(mode="json"), "base": self.base.digest()},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def loss(self, achieved: dict[str, float]) -> float:
        """Weighted mean of each target's squared miss (((achieved - value) / tolerance)^2,
        or 0 on a bound's allowed side): below 1 when every target is within its tolerance;
        infinite when a measure is missing."""
        total = weights = 0.0
        for name, t in self.targets.items():
            a = achieved.get(name, math.nan)
            if not math.isfinite(a):
                return math.inf
            total += t.weight * t.miss(a) ** 2
            weights += t.weight
        return total / weights


def shipped_targets() -> dict[str, Path]:
    """Targets files inside the package, by name (the preset each calibrates)."""
    from importlib import resources

    folder = resources.files("scsim") / "data" / "targets"
    return {f.name.removesuffix(".yaml"): Path(str(f)) for f in folder.iterdir()
            if f.name.endswith(".yaml")}  # fmt: skip


def find_targets(ref: str | Path) -> Path:
    """A targets file by path, or by the name of a shipped one (``china-court-list``)."""
    path = Path(ref)
    if path.is_file():
        return path
    shipped = shipped_targets()
    if str(ref) in shipped:
        return shipped[str(ref)]
    raise SweepError(
        f"--targets: {str(ref)!r} is neither a file nor a shipped targets file "
        f"({', '.join(sorted(shipped))})"
    )


def load_targets(path: str | Path, base: Scenario, name: str) -> Problem:
    """Read and check a targets file (a path or a shipped name) against ``base`` (a scenario
    with its size and seed)."""
    path = find_targets(path)
    data = _read(path)
    try:
        spec = TargetsFile.model_validate(data)
    except ValidationError as err:
        raise SweepError("\n".join(describe(e) for e in err.errors())) from None
    for key, p in spec.parameters.items():
        if p.values is not None:
            raise SweepError(f"parameters.{key}: give a range (low, high) to fit, not values")
        if p.log and p.low <= 0:  # type: ignore[operator]
            raise SweepError(f"parameters.{key}: a log range needs low > 0, not {p.low}")
    late = {k: t.day for k, t in spec.targets.items() if t.day >= base.days}
    if late:
        first = next(iter(late))
        raise SweepError(
            f"targets.{first}.day: {late[first]} is not simulated; the scenario runs days 0 to "
            f"{base.days - 1} (raise --days or the scenario's days)"
        )
    last = base.days - 1
    for key, t in spec.targets.items():
        if FINAL_STATE.search(t.sql) and t.day != last:
            raise SweepError(
                f"targets.{key}.day: {t.day}, but its sql reads the people view, the citizens "
                f"as they are on the run's last day ({last}); set day: {last}, or measure from "
                "timeseries"
            )
    varied = [resolve(k, p, base) for k, p in spec.parameters.items()]
    return Problem(base, name, dict(spec.targets), varied, spec)
