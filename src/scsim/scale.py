"""One synthetic citizen for many people (``population.represents``): how a run's figures in
citizens read as figures in people, for reports, comparisons and look-ups."""

from __future__ import annotations

from typing import Any

WORDS = ((1e9, "billion"), (1e6, "million"))


def represents(manifest: dict[str, Any]) -> float:
    """People each synthetic citizen of a run stands for, from its manifest (1.0 when the
    scenario does not say, as in runs from before ``population.represents``)."""
    scenario = manifest.get("scenario")
    population = scenario.get("population") if isinstance(scenario, dict) else None
    value = population.get("represents", 1.0) if isinstance(population, dict) else 1.0
    return float(value)


def number(value: float) -> str:
    """A number with thousands separators, decimals only when it has them: 10,000; 10,083.5."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def people(count: float) -> str:
    """A number of people for reading: 25,391; 253.9 million; 1.411 billion."""
    for size, word in WORDS:
        if abs(count) >= size:
            return f"{count / size:.4g} {word}"
    return f"{round(count):,}"


def ratio(factor: float) -> str:
    """The scale as a ratio of citizens to people: ``1 : 10,000``."""
    return f"1 : {number(factor)}"


def stands_for(factor: float) -> str:
    """One sentence saying what a synthetic citizen stands for."""
    return (
        f"Each synthetic citizen stands for {number(factor)} people (population.represents, "
        f"{ratio(factor)})."
    )
