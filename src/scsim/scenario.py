"""Scenarios: pydantic models, YAML in and out, shipped presets, and readable validation errors."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from scsim.days import MAX_DAYS
from scsim.extensions import ExtensionError, find, module_class
from scsim.modules.bookings import BookingsParams
from scsim.modules.chilling import ChillingParams
from scsim.modules.courts import CourtsParams
from scsim.modules.expiry import ExpiryParams
from scsim.modules.finance_params import FinanceParams
from scsim.modules.infractions import InfractionsParams
from scsim.modules.lists import ListsParams
from scsim.modules.lookups import LookupsParams
from scsim.modules.peer_rating import PeerRatingParams
from scsim.modules.perks import PerksParams
from scsim.modules.policy import PolicyParams
from scsim.modules.population import PopulationParams
from scsim.modules.purchases import PurchasesParams
from scsim.modules.sanctions import SanctionsParams
from scsim.modules.scoring import ScoringParams
from scsim.modules.shunning import ShunningParams
from scsim.modules.speech import SpeechParams
from scsim.modules.surveillance import SurveillanceParams
from scsim.params import ModuleParams, Name, Probability, ScenarioError, Strict
from scsim.timeline import TimelineError, TimelineEvent, configs
from scsim.validation import describe


class Population(Strict):
    n: int = Field(ge=1, lt=2**32, description="number of synthetic citizens")
    represents: float = Field(
        default=1.0,
        ge=1,
        allow_inf_nan=False,
        description="people each synthetic citizen stands for (reporting only; e.g. 10000: "
        "140 000 citizens stand for 1.4 billion people)",
    )

    @field_validator("represents", mode="before")
    @classmethod
    def _at_least_one(cls, value: Any) -> Any:
        # below 1, named as a number (the generic message would call 0 an integer); true is
        # not a number of people, though pydantic would read it as 1
        if isinstance(value, bool) or isinstance(value, int | float) and value < 1:
            raise ValueError("expected a number >= 1")
        return value

    @model_serializer(mode="wrap")
    def _without_default_represents(self, handler) -> dict[str, Any]:
        """Populations standing for themselves dump (and hash) as before ``represents``."""
        data = handler(self)
        if self.represents == 1:
            data.pop("represents", None)
        return data


class WattsStrogatz(Strict):
    kind: Literal["watts-strogatz"] = "watts-strogatz"
    k: int = Field(default=20, ge=2, le=32, description="mean degree (even)")
    rewire_prob: Probability = 0.1

    @field_validator("k")
    @classmethod
    def _even(cls, k: int) -> int:
        if k % 2:
            raise ValueError("expected an even integer")
        return k


class Regional(Strict):
    """Regions (id ranges by share), households (family cliques) and a friends ring per region
    with long ties; see ``scsim.network.regional``."""

    kind: Literal["regional"] = "regional"
    region_shares: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: [1.0], min_length=1, max_length=65536
    )
    household_mean: float = Field(
        default=2.62, ge=1, le=8, description="mean household size (China, 2020 census: 2.62)"
    )
    friends_k: int = Field(default=10, ge=0, le=64, description="friends per citizen (even)")
    long_tie_prob: Probability = Field(default=0.05, description="chance a friend tie is long")

    _even = field_validator("friends_k")(WattsStrogatz._even.__func__)

    def min_region_size(self, n: int) -> int:
        from scsim.network.regional import region_sizes

        return int(region_sizes(n, self.region_shares).min())


class Layered(Regional):
    """Household, friends and work layers in one graph with a layer code per edge; see
    ``scsim.network.layered`` and docs/odd_network.md."""

    kind: Literal["layered"] = "layered"
    work: bool = Field(default=True, description="add the work layer (teams of colleagues)")
    work_team_mean: float = Field(
        default=5.0, ge=1, le=16, description="mean work team size (assumption; capped at 16)"
    )


Network = Annotated[WattsStrogatz | Regional | Layered, Field(discriminator="kind")]


class Modules(Strict):
    model_config = ConfigDict(extra="allow", validate_assignment=True)
    """Blocks of modules of one's own are extra fields, validated by ``Scenario``."""

    population: PopulationParams | None = None
    surveillance: SurveillanceParams | None = None
    chilling: ChillingParams | None = None
    finance: FinanceParams | None = None
    purchases: PurchasesParams | None = None
    infractions: InfractionsParams | None = None
    speech: SpeechParams | None = None
    courts: CourtsParams | None = None
    policy: PolicyParams | None = None
    scoring: ScoringParams = Field(default_factory=ScoringParams)
    expiry: ExpiryParams | None = None
    lists: ListsParams | None = None
    sanctions: SanctionsParams | None = None
    perks: PerksParams | None = None
    bookings: BookingsParams | None = None
    lookups: LookupsParams | None = None
    peer_rating: PeerRatingParams | None = None
    shunning: ShunningParams | None = None


class Output(Strict):
    histogram_bins: int = Field(default=120, ge=10, le=2000, description="score bins per day")
    audit_sample: int = Field(
        default=10_000,
        ge=0,
        le=1_000_000,
        description="citizens whose every event is logged (all of them when n is smaller)",
    )


class Scenario(Strict):
    name: str = Field(
        min_length=1, max_length=80, description="the scenario's name (runs and reports show it)"
    )
    description: str = Field(default="", description="what the scenario models, in a sentence")
    sources: dict[str, str] = Field(default_factory=dict, description="where each number is from")
    seed: int = Field(
        default=0, ge=0, lt=2**63, description="random seed: the same seed, the same run"
    )
    days: int = Field(
        default=365, ge=1, le=MAX_DAYS, description="days to simulate (at most ~89.7 years)"
    )
    population: Population = Field(description="who is simulated: how many, standing for how many")
    network: Network = Field(
        default_factory=WattsStrogatz, description="who knows whom (friends, family, colleagues)"
    )
    extensions: dict[Name, str] = Field(
        default_factory=dict,
        description="modules of your own: name -> 'path/to/file.py:Class' or "
        "'package.module:Class' (docs/extending.md)",
    )
    modules: Modules = Field(
        default_factory=Modules, description="the mechanics switched on, one block each"
    )
    output: Output = Field(
        default_factory=Output, description="what a run writes besides its records"
    )
    timeline: list[TimelineEvent] = Field(
        default_factory=list, description="dated parameter changes and amnesties (row 18)"
    )
    calibration: dict[str, Any] | None = Field(
        default=None,
        description="written by scsim calibrate: the targets, the values achieved, the study "
        "(a record of how the parameters were fitted; it changes nothing in a run)",
    )

    @model_validator(mode="after")
    def _own_modules(self) -> Scenario:
        """Validate each block of a module of one's own with its class's ``Params``."""
        extra = self.modules.__pydantic_extra__ or {}
        built_in = sorted(set(self.extensions) & set(type(self.modules).model_fields))
        if built_in:
            raise ValueError(
                f"extensions.{built_in[0]}: a built-in module has that name; give yours another"
            )
        unused = sorted(set(self.extensions) - set(extra))
        if unused:
            raise ValueError(
                f"extensions.{unused[0]} names a module with no block under modules:; add "
                f"modules.{unused[0]} or remove the extension"
            )
        for name, block in extra.items():
            if isinstance(block, ModuleParams):
                continue
            try:
                cls = find(name, self.extensions.get(name))
            except ExtensionError as err:
                raise PydanticCustomError("extension", "{message}", {"message": str(err)}) from None
            try:
                extra[name] = cls.Params.model_validate(block or {})
            except ValidationError as err:
                first = err.errors()[0]
                message = describe({**first, "loc": ("modules", name, *first["loc"])})
                raise PydanticCustomError("extension", "{message}", {"message": message}) from None
        return self

    @model_validator(mode="after")
    def _coherent(self) -> Scenario:
        enabled = {name for name, p in self.modules if p is not None and p.enabled}
        for name in sorted(enabled):
            params = getattr(self.modules, name)
            needs = params.needs_modules() if hasattr(params, "needs_modules") else ()
            requires = module_class(name, self.extensions).requires
            missing = [r for r in (*requires, *needs) if r not in enabled]
            if missing:
                raise ValueError(
                    f"modules.{name} needs modules.{missing[0]} (it reads state that "
                    f"{missing[0]} keeps); enable it or switch {name} off"
                )
            clash = params.clashes(enabled) if hasattr(params, "clashes") else None
            if not clash and hasattr(params, "conflicts"):  # rules across modules' parameters
                clash = params.conflicts(self.modules)
            if clash:
                raise ValueError(clash)
        idle = _idle_listing_rule(self.modules, enabled)
        if idle:
            raise ValueError(idle)
        components = {"friends"} | {
            m
            for m in enabled
            if module_class(m, self.extensions).has_delta(getattr(self.modules, m))
        }
        components -= {"scoring"}
        for field, allowed in (("weights", components), ("half_lives", components | {"bound"})):
            unknown = sorted(set(getattr(self.modules.scoring, field)) - allowed)
            if unknown:
                raise ValueError(
                    f"modules.scoring.{field}.{unknown[0]} is not a score component of this "
                    f"scenario; expected one of {sorted(allowed)}"
                )
        n, net = self.population.n, self.network
        if isinstance(net, WattsStrogatz) and n < net.k + 2:
            raise ValueError(f"population.n ({n}) must be at least network.k + 2 ({net.k + 2})")
        smallest = net.min_region_size(n) if isinstance(net, Regional) else None
        if smallest is not None and smallest <= net.friends_k:
            raise ValueError(
                f"population.n ({n}) leaves a region with {smallest} citizens; "
                f"every region needs more than network.friends_k ({net.friends_k})"
            )
        return self

    @model_validator(mode="after")
    def _timeline(self) -> Scenario:
        if self.timeline:
            try:
                configs(self)
            except TimelineError as err:
                raise PydanticCustomError("timeline", "{message}", {"message": str(err)}) from None
        return self

    @model_serializer(mode="wrap")
    def _without_empty_timeline(self, handler) -> dict[str, Any]:
        """Scenarios without a timeline dump (and hash) as before it existed."""
        data = handler(self)
        if not self.timeline:
            data.pop("timeline", None)
        if self.calibration is None:
            data.pop("calibration", None)
        return data

    def digest(self) -> str:
        """A stable hash of the scenario as run."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def _idle_listing_rule(modules: Modules, enabled: set[str]) -> str | None:
    """A blacklist rule that nothing enabled can trigger: the court rule without courts, the
    act rule without an act that lists."""
    lists = modules.lists
    if "lists" not in enabled:
        return None
    if lists.court and "courts" not in enabled:
        return (
            "modules.lists.court: true needs modules.courts (the court rule lists the judgment "
            "defaulters that courts keeps); enable modules.courts or set modules.lists.court "
            "to false"
        )
    kinds = modules.infractions.kinds if "infractions" in enabled else []
    if lists.act_days > 0 and not any(k.lists for k in kinds):
        return (
            f"modules.lists.act_days: {lists.act_days} needs an act that lists: an enabled "
            "modules.infractions with a kind marked lists: true; mark one "
            "(modules.infractions.kinds[].lists) or set modules.lists.act_days to 0"
        )
    return None


# ---------------------------------------------------------------- loading and errors


def preset_names() -> list[str]:
    files = resources.files("scsim.presets").iterdir()
    return sorted(f.name.removesuffix(".yaml") for f in files if f.name.endswith(".yaml"))


def presets() -> dict[str, str]:
    """Preset name -> its one-line description."""
    return {name: _read_preset(name).get("description", "") for name in preset_names()}


def _read_preset(name: str) -> dict[str, Any]:
    return yaml.safe_load(resources.files("scsim.presets").joinpath(f"{name}.yaml").read_text())


def load_raw(spec: str) -> dict[str, Any]:
    """The mapping behind a preset name or a YAML file path."""
    if spec in preset_names():
        return _read_preset(spec)
    path = Path(spec)
    if not path.is_file():
        raise ScenarioError(
            f"scenario: {spec!r} is neither a preset ({', '.join(preset_names())}) "
            "nor a readable YAML file"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ScenarioError(
            f"{spec}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start}); "
            "save the scenario as UTF-8"
        ) from None
    except OSError as err:
        raise ScenarioError(f"{spec}: cannot be read ({err.strerror})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", err)
        raise ScenarioError(f"{spec}: not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ScenarioError(f"{spec}: expected a mapping of scenario fields, got {kind}")
    own = data.get("extensions")
    if isinstance(own, dict):  # a module file is found beside the scenario that names it
        for name, where in own.items():
            if isinstance(where, str) and ".py:" in where and not Path(where).is_absolute():
                own[name] = str((path.parent / where).resolve())
    return data


def load_scenario(spec: str, overrides: dict[str, Any] | None = None) -> Scenario:
    """Validate a preset or YAML file, with dotted-path overrides such as ``population.n``."""
    data = load_raw(spec)
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ScenarioError(f"{dotted}: cannot override inside a non-mapping")
        node[leaf] = value
    return validate(data)


def validate(data: dict[str, Any]) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError("\n".join(describe(e) for e in err.errors())) from None
