"""The explorer's what-if page, server side: run a shipped preset as it is and with a few policy
levers moved, on the same seed (common random numbers), and answer with both outcomes.

``GET /api/whatif/presets`` lists the presets and the size limits; ``GET /api/whatif/levers``
the levers one preset has; ``POST /api/whatif`` runs both sides. One run at a time: a second
request while one runs gets HTTP 409. Every mistake in a request is HTTP 422 naming the field,
the value and what is allowed.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException, Query

from scsim.scenario import Scenario, ScenarioError, preset_names

BUSY = "a what-if run is already running; wait for it to finish"
MAX_BODY = 4096
COUNTS = ("listed", "banned", "wrongly_listed")
COVERAGE = "modules.surveillance.coverage"
"""Not a scenario field: every surveillance source's coverage times this (capped at 1)."""


@dataclass(frozen=True)
class Limits:
    """The sizes a what-if run may have (tests lower the minimums)."""

    n_min: int = 1_000
    n_max: int = 100_000
    n_default: int = 50_000
    days_min: int = 30
    days_max: int = 730
    days_default: int = 365


@dataclass(frozen=True)
class Lever:
    path: str
    label: str
    kind: str  # "number" or "bool"
    lo: float = 0.0
    hi: float = 1.0
    step: float = 1.0


def _on(sc: Scenario, module: str) -> bool:
    params = getattr(sc.modules, module, None)
    return params is not None and getattr(params, "enabled", True)


def _get(sc: Scenario, path: str) -> Any:
    if path == COVERAGE:
        return 1.0
    node: Any = sc
    for part in path.split("."):
        node = getattr(node, part)
    return node


def _num(path: str, label: str, lo: float, hi: float, step: float) -> Lever:
    return Lever(path, label, "number", lo, hi, step)


def _flag(path: str, label: str) -> Lever:
    return Lever(path, label, "bool")


def levers_of(sc: Scenario) -> list[Lever]:
    """The levers this scenario has: only fields of modules it runs, and only when they act."""
    out: list[Lever] = []
    lo, hi = sc.modules.scoring.range
    if _on(sc, "lists"):
        below = sc.modules.lists.blacklist_below
        lists = "modules.lists."
        out.append(_num(lists + "blacklist_below", "blacklist below this score",
                        min(lo, below), max(hi, below), 5))  # fmt: skip
    if _on(sc, "sanctions"):
        out.append(_num("modules.scoring.friend_sanction_penalty",
                        "points lost per day for each sanctioned friend", -10, 0, 0.1))  # fmt: skip
    if _on(sc, "lists"):
        out += [
            _num("modules.scoring.friend_listed_penalty",
                 "points lost per day for each friend on the public blacklist", -10, 0, 0.1),
            _flag(lists + "appeals", "listed citizens can appeal"),
            _flag(lists + "disclose", "the blacklist is public (friends see it)"),
        ]  # fmt: skip
        if sc.modules.lists.removal == "expiry":
            out.append(_num(lists + "listing_days", "days a listing lasts before it expires",
                            30, 1825, 5))  # fmt: skip
    if _on(sc, "expiry"):
        out.append(_num("modules.expiry.after_days",
                        "days without a new record before old records expire",
                        30, 1825, 5))  # fmt: skip
    if sc.modules.scoring.half_life is not None:
        out.append(_num("modules.scoring.half_life",
                        "days after which a score change counts half (the score's memory)",
                        30, 3650, 5))  # fmt: skip
    if _on(sc, "surveillance"):
        out += [
            _flag("modules.surveillance.pooling", "departments pool their records into the score"),
            _num(COVERAGE, "surveillance coverage, times the preset's (a source sees at most "
                 "every act)", 0, 3, 0.05),
        ]  # fmt: skip
    return out


def lever_json(sc: Scenario) -> list[dict[str, Any]]:
    rows = []
    for lever in levers_of(sc):
        row: dict[str, Any] = {"path": lever.path, "label": lever.label, "kind": lever.kind}
        row["value"] = _get(sc, lever.path)
        if lever.kind == "number":
            row.update(min=lever.lo, max=lever.hi, step=lever.step)
        rows.append(row)
    return rows


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(422, message)


def _integer(body: dict[str, Any], name: str, lo: int, hi: int, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _unprocessable(
            f"{name}: {value!r} is not allowed; expected an integer from {lo:,} to {hi:,}"
        )
    return value


def _preset(name: Any) -> str:
    names = preset_names()
    if name not in names:
        raise _unprocessable(
            f"preset: {str(name)[:60]!r} is not allowed; expected one of {', '.join(names)}"
        )
    return name


def _checked(levers: Any, offered: dict[str, Lever]) -> dict[str, Any]:
    if levers is None:
        return {}
    if not isinstance(levers, dict):
        raise _unprocessable(f"levers: {str(levers)[:60]!r} is not allowed; expected a mapping")
    out = {}
    for path, value in levers.items():
        lever = offered.get(path)
        if lever is None:
            raise _unprocessable(
                f"levers: {str(path)[:80]!r} is not a lever of this preset; expected one of "
                f"{', '.join(offered)}"
            )
        if lever.kind == "bool":
            if not isinstance(value, bool):
                raise _unprocessable(
                    f"levers.{path}: {str(value)[:40]!r} is not allowed; expected true or false"
                )
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not lever.lo <= value <= lever.hi
        ):
            raise _unprocessable(
                f"levers.{path}: {str(value)[:40]!r} is not allowed; expected a number from "
                f"{lever.lo:g} to {lever.hi:g}"
            )
        out[path] = value
    return out


def with_levers(sc: Scenario, levers: dict[str, Any]) -> Scenario:
    """The scenario with these levers moved (validated again)."""
    from scsim.api import _assign
    from scsim.scenario import validate

    data = sc.model_dump(mode="json")
    for path, value in levers.items():
        if path == COVERAGE:
            for source in data["modules"]["surveillance"]["sources"]:
                source["sees"] = {k: min(1.0, v * value) for k, v in source["sees"].items()}
        else:
            _assign(data, path, value)
    return validate(data)


def outcome(sc: Scenario) -> dict[str, Any]:
    """Run one scenario: its summary sentences, final counts and shares, daily series."""
    from scsim.api import run
    from scsim.report import numeric_columns
    from scsim.report.summary import sentences

    result = run(sc)
    series = numeric_columns(result.arrow("timeseries"))
    n = result.n
    final = {k: (float(series[k][-1]) if k in series else None) for k in COUNTS}
    return {
        "sentences": sentences(series, n, sc.population.represents),
        "final": final,
        "share": {k: (None if v is None else v / n) for k, v in final.items()},
        "series": {k: series[k].tolist() for k in ("day", "listed", "banned") if k in series},
    }


def _difference(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    def minus(x: float | None, y: float | None) -> float | None:
        return None if x is None or y is None else x - y

    return {
        "final": {k: minus(b["final"][k], a["final"][k]) for k in COUNTS},
        "share": {k: minus(b["share"][k], a["share"][k]) for k in COUNTS},
    }


def add_whatif(app: FastAPI, limits: Limits | None = None) -> None:
    """Register the what-if routes on the explorer app."""
    lim = limits or Limits()
    lock = threading.Lock()
    app.state.whatif_lock = lock

    def scenario(preset: str, **sizes: int) -> Scenario:
        from scsim.api import load

        try:
            return load(preset, **sizes)
        except ScenarioError as err:
            raise _unprocessable(str(err)) from None

    @app.get("/api/whatif/presets")
    def presets() -> dict[str, Any]:
        """The shipped presets and the size limits of a what-if run."""
        return {"presets": preset_names(), "limits": vars(lim) | {"default_preset": "beijing-2020"}}

    @app.get("/api/whatif/levers")
    def levers(preset: Annotated[str, Query(max_length=60)]) -> dict[str, Any]:
        """The levers this preset has, each with its value, range or choices and a label."""
        sc = scenario(_preset(preset))
        return {"preset": preset, "seed": sc.seed, "levers": lever_json(sc)}

    @app.post("/api/whatif")
    def whatif(body: Annotated[Any, Body()]) -> dict[str, Any]:
        """Run the preset as it is and with the levers, on the same seed."""
        if not isinstance(body, dict):
            raise _unprocessable("body: expected a JSON object {preset, n, days, seed, levers}")
        preset = _preset(body.get("preset"))
        n = _integer(body, "n", lim.n_min, lim.n_max, lim.n_default)
        days = _integer(body, "days", lim.days_min, lim.days_max, lim.days_default)
        seed = _integer(body, "seed", 0, 2**31 - 1, 1)
        base = scenario(preset, n=n, days=days, seed=seed)
        moved = _checked(body.get("levers"), {lv.path: lv for lv in levers_of(base)})
        try:
            changed = with_levers(base, moved)
        except ScenarioError as err:
            raise _unprocessable(str(err)) from None
        if not lock.acquire(blocking=False):
            raise HTTPException(409, BUSY)
        try:
            start = time.perf_counter()
            a, b = outcome(base), outcome(changed)
            seconds = time.perf_counter() - start
        finally:
            lock.release()
        return {
            "preset": preset, "n": n, "days": days, "seed": seed, "levers": moved,
            "unchanged": a, "changed": b, "difference": _difference(a, b),
            "seconds": round(seconds, 3),
        }  # fmt: skip


def post_allowed(method: str, path: str) -> bool:
    """The one write the explorer takes: a what-if run."""
    return method == "POST" and path == "/api/whatif"
