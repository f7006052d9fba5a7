"""Shared pydantic building blocks for scenario parameters."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0, description="expected events per agent per day")]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names field, value and what is allowed."""


class Strict(BaseModel):
    """A scenario block: unknown fields are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    fixed: ClassVar[dict[str, str]] = {}
    """Fields the timeline may not change mid-run, each with the reason ("*": every field)."""


class Uniform(Strict):
    """A trait drawn once per agent from Uniform(low, high)."""

    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self


class ModuleParams(Strict):
    """Every module can be switched off in place with ``enabled: false``."""

    enabled: bool = Field(default=True, description="false switches the module off in place")


def unique_names(items: list[Any]) -> list[Any]:
    """``items`` unchanged, or ValueError naming the first name used twice."""
    names = [item.name for item in items]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"the name {name!r} is used more than once")
    return items
