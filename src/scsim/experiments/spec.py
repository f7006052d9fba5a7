"""The sweep file: a base scenario, the parameters to vary (dotted paths, as in ``timeline:``),
a design, replicates per point (common random numbers), the outcomes to keep and the size.

``load_sweep(path, ...)`` validates the file and every parameter against the base scenario and
returns a ``Sweep``, or raises ``SweepError`` naming the entry, its value and what is allowed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from scsim.params import Name, Strict
from scsim.scenario import Scenario, ScenarioError, load_raw, validate
from scsim.validation import describe

Scalar = bool | int | float | str


class SweepError(ValueError):
    """A sweep file that cannot be run; the message names the entry and what is allowed."""


class Parameter(Strict):
    """One varied parameter: a range (``low``, ``high``) or a list of ``values`` (grids)."""

    name: Name | None = Field(
        default=None, description="column name in the results [the path without 'modules.']"
    )
    low: float | None = Field(default=None, allow_inf_nan=False)
    high: float | None = Field(default=None, allow_inf_nan=False)
    values: list[Scalar] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _range_or_values(self) -> Parameter:
        ranged = self.low is not None or self.high is not None
        if ranged and self.values is not None:
            raise ValueError("give either low and high, or values, not both")
        if not ranged and self.values is None:
            raise ValueError("give low and high (a range), or values (a list)")
        if ranged and (self.low is None or self.high is None):
            raise ValueError("a range needs both low and high")
        if ranged and not self.high > self.low:  # type: ignore[operator]
            raise ValueError(f"empty range: high ({self.high}) must be > low ({self.low})")
        return self


class Outcome(Strict):
    """A measure kept from every run: SQL over the run's views returning one number."""

    sql: str = Field(min_length=1)
    label: str | None = Field(default=None, description="words for reports [the name]")


class Design(Strict):
    kind: Literal["grid", "random", "latin", "sobol", "morris"]
    samples: int | None = Field(
        default=None,
        ge=1,
        description="random, latin: points; sobol: base samples N (a power of 2; "
        "N x (parameters + 2) points); morris: trajectories (x (parameters + 1) points)",
    )
    levels: int = Field(
        default=4, ge=2, description="grid: points across each range; morris: grid levels"
    )

    @model_validator(mode="after")
    def _samples(self) -> Design:
        if self.kind != "grid" and self.samples is None:
            raise ValueError(f"a {self.kind} design needs samples")
        if self.kind == "sobol" and self.samples is not None:
            if self.samples & (self.samples - 1):
                raise ValueError(f"a sobol design needs samples a power of 2, not {self.samples}")
        return self


class SweepSpec(Strict):
    description: str = ""
    base: str = Field(min_length=1, description="a preset name or a scenario YAML file")
    n: int | None = Field(default=None, ge=1, description="citizens [the base scenario's]")
    days: int | None = Field(default=None, ge=1, description="days [the base scenario's]")
    seed: int = Field(default=1, ge=0, description="replicate r runs with seed + r")
    replicates: int = Field(default=1, ge=1, le=10_000)
    design: Design
    parameters: dict[str, Parameter] = Field(min_length=1)
    outcomes: dict[Name, Outcome | str] = Field(min_length=1)
    keep_runs: bool = Field(default=False, description="also keep every run directory")
    boundaries: dict[Name, float] = Field(
        default_factory=dict,
        description="outcome -> level drawn as a line on the report's heat maps",
    )


@dataclass(frozen=True)
class Varied:
    """A parameter resolved against the base scenario."""

    path: str
    name: str
    spec: Parameter
    integer: bool
    """The base value is an integer: sampled values are rounded."""


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its spec, the base scenario (with size and seed) and the varied."""

    spec: SweepSpec
    name: str
    base: Scenario
    varied: list[Varied]
    outcomes: dict[str, Outcome]

    def digest(self) -> str:
        blob = json.dumps(self.spec.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def scenario(self, values: dict[str, Any], seed: int) -> Scenario:
        return validate(with_values(self.base, values, seed))


def with_values(base: Scenario, values: dict[str, Any], seed: int) -> dict[str, Any]:
    """``base`` as a mapping with ``values`` (path -> value) and ``seed`` set."""
    data = base.model_dump(mode="json")
    for path, value in values.items():
        assign(data, path, value)
    data["seed"] = seed
    return data


def _container(data: Any, part: str) -> Any:
    if isinstance(data, dict):
        if part not in data:
            raise KeyError(part)
        return data[part]
    if isinstance(data, list):
        if not part.isdigit() or int(part) >= len(data):
            raise KeyError(part)
        return data[int(part)]
    raise KeyError(part)


def lookup(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (list entries by index) or ``KeyError`` naming the part."""
    node: Any = data
    for part in path.split("."):
        node = _container(node, part)
    return node


def assign(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node: Any = data
    for part in parents:
        node = _container(node, part)
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value


def resolve(path: str, param: Parameter, base: Scenario) -> Varied:
    """A parameter checked against the base scenario: its path exists, both ends of its range
    (or each of its values) make a valid scenario."""
    where = f"parameters.{path}"
    if path in ("seed", "population.n", "days"):
        raise SweepError(f"{where}: set by the sweep itself (seed, n, days); vary something else")
    data = base.model_dump(mode="json")
    try:
        current = lookup(data, path)
    except KeyError as e:
        raise SweepError(
            f"{where}: {e.args[0]!r} is not a field of the base scenario (with its defaults); "
            "expected a dotted path to one value, e.g. modules.lists.blacklist_below"
        ) from None
    if isinstance(current, dict | list) or current is None and param.values is None:
        raise SweepError(f"{where}: is a block or unset, not a single value; name one parameter")
    integer = isinstance(current, int) and not isinstance(current, bool)
    tried = param.values if param.values is not None else [param.low, param.high]
    for value in tried:
        trial = copy.deepcopy(data)
        try:
            assign(trial, path, round(value) if integer and isinstance(value, float) else value)
            validate(trial)
        except ScenarioError as e:
            raise SweepError(f"{where}: {value!r} does not make a valid scenario: {e}") from None
    name = param.name or path.removeprefix("modules.").replace(".", "_")
    return Varied(path, name, param, integer)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SweepError(f"sweep file: {str(path)!r} does not exist or is not a file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SweepError(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise SweepError(f"{path}: expected a mapping of sweep fields, got {type(data).__name__}")
    return data


def load_sweep(
    path: str | Path,
    n: int | None = None,
    days: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
) -> Sweep:
    """Read and check a sweep file; flags (when given) override its n, days, replicates, seed."""
    path = Path(path)
    return sweep_from_data(_read(path), path.stem, path.parent, n, days, replicates, seed)


def sweep_from_data(
    data: dict[str, Any],
    name: str,
    root: Path,
    n: int | None = None,
    days: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
) -> Sweep:
    """Check a sweep given as a mapping (a sweep file's fields), named ``name``; a ``base``
    naming a file under ``root`` is read from there."""
    data = dict(data)
    for key, value in (("n", n), ("days", days), ("replicates", replicates), ("seed", seed)):
        if value is not None:
            data[key] = value
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as err:
        raise SweepError("\n".join(describe(e) for e in err.errors())) from None
    base_ref = spec.base
    beside = Path(root) / spec.base
    if beside.is_file():  # a scenario file named relative to the sweep file
        base_ref = str(beside)
    try:
        raw = load_raw(base_ref)
        if spec.n is not None:
            raw.setdefault("population", {})["n"] = spec.n
        if spec.days is not None:
            raw["days"] = spec.days
        raw["seed"] = spec.seed
        base = validate(raw)
    except ScenarioError as e:
        raise SweepError(f"base: {e}") from None
    varied = [resolve(p, param, base) for p, param in spec.parameters.items()]
    names = [v.name for v in varied]
    clash = sorted({x for x in names if names.count(x) > 1} | (set(names) & set(spec.outcomes)))
    if clash:
        raise SweepError(
            f"parameters: the column name {clash[0]!r} is used twice (parameters and outcomes "
            "need distinct names); give the parameter a name:"
        )
    if spec.design.kind in ("sobol", "morris") and any(v.spec.values for v in varied):
        raise SweepError(
            f"design.kind: {spec.design.kind} needs every parameter as a range (low, high), "
            "not a list of values"
        )
    unknown = sorted(set(spec.boundaries) - set(spec.outcomes))
    if unknown:
        raise SweepError(
            f"boundaries.{unknown[0]}: is not an outcome; expected one of {sorted(spec.outcomes)}"
        )
    outcomes = {k: Outcome(sql=v) if isinstance(v, str) else v for k, v in spec.outcomes.items()}
    return Sweep(spec, name, base, varied, outcomes)
