"""Look up one synthetic citizen of a run: profile, score breakdown, history, events, standing.

``lookup(run, citizen)`` returns one JSON-ready dict (``scsim lookup --json`` prints it;
``scsim.lookup_view`` renders it as text); its ``represents`` is the people this one synthetic
citizen stands for (``population.represents``). It reads only the citizen's rows: one row group
of ``people.parquet`` and, for a citizen in the audit sample, of ``events.parquet`` and
``audit.parquet``. Fields of modules that were switched off are absent, and so are the parts of
the answer built from them (``None``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scsim.fusion import FORGOTTEN
from scsim.modules.attribution import attribution_stride
from scsim.modules.scoring import ScoringParams
from scsim.runs import Run, RunError, open_run

ENGINE_TERMS = ("bound",)
"""Components the engine computes without events: the range's clip."""
FRIENDS_MODULE = "scoring"
"""The module whose delta is the ``friends`` component; its ``scoring.friend`` events name
each friend's share (``source``), summing to the component to float32 rounding."""
STANDING_MODULES = ("lists", "sanctions", "perks")
"""Modules whose events date listings, sanctions and perks."""
LEGACY_FALSE_EVENTS = ("surveillance.misattributed", "surveillance.false_record")
"""The events that make a false record, for a run whose manifest predates ``false_events``."""
WORST_DAYS = 3
"""Days of the largest falls of the friends component that a look-up names."""
SPARK = "▁▂▃▄▅▆▇█"


def parse_citizen(text: str, run: Run) -> int:
    """A citizen id given on the command line, checked against the run's size."""
    allowed = f"expected an integer from 0 to {run.n - 1} (the run has {run.n:,} citizens)"
    try:
        citizen = int(text)
    except ValueError:
        raise RunError(f"CITIZEN_ID: {text!r} is not allowed; {allowed}") from None
    if not 0 <= citizen < run.n:
        raise RunError(f"CITIZEN_ID: {citizen} is not allowed; {allowed}")
    return citizen


def sparkline(values: list[float], width: int = 60) -> str:
    """Values as unicode blocks, averaged into at most ``width`` buckets, scaled min to max."""
    if not values:
        return ""
    k = -(-len(values) // width)
    buckets = [values[i : i + k] for i in range(0, len(values), k)]
    means = [sum(b) / len(b) for b in buckets]
    lo, hi = min(means), max(means)
    if hi == lo:
        return SPARK[len(SPARK) // 2] * len(means)
    return "".join(SPARK[round((m - lo) / (hi - lo) * (len(SPARK) - 1))] for m in means)


def _component_of(kind: str, components: list[str]) -> str | None:
    module = kind.split(".", 1)[0]
    if module == FRIENDS_MODULE:
        return "friends"
    return module if module in components else None


def code_labels(run: Run, profile: dict[str, Any]) -> dict[str, str]:
    """Names of the population module's codes (region, occupation, role, sex, education)."""
    pop = run.scenario.get("modules", {}).get("population")
    if not pop or not pop.get("enabled", True):
        return {}
    from scsim.modules import population_tables as T

    names = {
        "region": list(T.load_region_table(pop["regions"])["name"]),
        "occupation": [*T.RESERVED_OCCUPATIONS, *(o["name"] for o in pop.get("occupations", []))],
        "role": T.ROLE_NAMES,
        "sex": T.SEX_NAMES,
        "education": T.EDUCATION_NAMES,
    }
    out = {}
    for field, table in names.items():
        code = profile.get(field)
        if isinstance(code, int) and 0 <= code < len(table):
            out[field] = str(table[code])
    return out


def _history(run: Run, citizen: int) -> list[dict[str, Any]]:
    rows = run.citizen_rows("audit", citizen).sort_by("day").to_pylist()
    return [
        {
            "day": r["day"],
            "score": r["score"],
            "parts": {c: r[f"part_{c}"] for c in run.components if f"part_{c}" in r},
        }
        for r in rows
    ]


def _events(run: Run, citizen: int) -> list[dict[str, Any]]:
    table = run.citizen_rows("events", citizen)  # day, then emission order
    # column by column (a citizen with per-friend attribution has ~10^4 events: converting
    # rows to dicts in arrow, then copying them, took twice as long)
    day, kind, cause, delta, source = (
        table.column(name).to_pylist() for name in ("day", "kind", "cause", "delta", "source")
    )
    components = run.components
    component = {k: _component_of(k, components) for k in set(kind)}
    return [
        {
            "day": day[j],
            "kind": kind[j],
            "cause": cause[j],
            "delta": delta[j],
            "source": source[j],
            "component": component[kind[j]],
        }
        for j in sorted(range(len(day)), key=day.__getitem__)  # stable: emission order kept
    ]


def _by_day(history: list[dict], events: list[dict], initial: float) -> list[dict[str, Any]]:
    """Days with events: the day's score, its change, each component's change, the events."""
    start = {"score": initial, "parts": dict.fromkeys(history[0]["parts"], 0.0)}
    steps = {h["day"]: (history[k - 1] if k else start, h) for k, h in enumerate(history)}
    out: list[dict[str, Any]] = []
    for e in events:
        if not out or out[-1]["day"] != e["day"]:
            then, now = steps[e["day"]]
            out.append(
                {
                    "day": e["day"],
                    "score": now["score"],
                    "change": now["score"] - then["score"],
                    "components": {
                        c: v - then["parts"][c]
                        for c, v in now["parts"].items()
                        if v != then["parts"][c]
                    },
                    "events": [],
                }
            )
        out[-1]["events"].append(e)
    return out


def _explained(run: Run, profile: dict, events: list[dict] | None) -> list[dict[str, Any]]:
    """Each component's final value and, for one fed by events, their sum (the engine's
    ``bound`` has none; nor has anything outside the audit sample)."""
    out = []
    for c in run.components:
        fed = [e["delta"] for e in events or [] if e["component"] == c]
        counted = events is not None and c not in ENGINE_TERMS
        out.append(
            {
                "component": c,
                "total": profile.get(f"part_{c}"),
                "from_events": sum(fed) if counted else None,
                "events": len(fed) if counted else None,
            }
        )
    return out


def _attribution(run: Run, citizen: int) -> dict[str, Any]:
    """Whether the citizen's friends' shares were logged (``modules.scoring.attribute_sample``,
    every ``stride``-th citizen; a sub-sample of the audit sample)."""
    sample = run.scenario.get("modules", {}).get("scoring", {}).get("attribute_sample", 0)
    stride = attribution_stride(run.audit_stride, run.audit_size, sample)
    return {"attributed": bool(stride) and citizen % stride == 0, "sample": sample,
            "stride": stride}  # fmt: skip


def friends_keep(run: Run) -> float:
    """The friends component's daily memory factor in this run (1: lifetime sums)."""
    scoring = run.scenario.get("modules", {}).get("scoring") or {}
    return float(ScoringParams.model_validate(scoring).keep_of("friends"))


def _kept(value: float, keep: float) -> float:
    """What a component of ``value`` keeps after a day's fading, as the fused kernel does."""
    if keep == 1.0 or value == 0:
        return value
    now = np.float32(value) * np.float32(keep)
    return 0.0 if abs(now) < FORGOTTEN else float(now)


def _friends(
    profile: dict,
    history: list[dict] | None,
    events: list[dict] | None,
    attribution: dict,
    keep: float = 1.0,
) -> dict:
    out: dict[str, Any] = {
        "total": profile.get("part_friends"),
        "attribution": attribution,
        "by_source": None,
    }
    if history is not None:
        parts = [0.0] + [h["parts"].get("friends", 0.0) for h in history]
        # the day's own change: what the component holds minus what yesterday's kept (memory)
        changes = [b - _kept(a, keep) for a, b in zip(parts, parts[1:], strict=False)]
        down = [c for c in changes if c < 0]
        out["days_down"] = len(down)
        out["down_total"] = sum(down)
        worst = sorted((c, h["day"]) for c, h in zip(changes, history, strict=True) if c < 0)
        out["worst_days"] = [{"day": day, "change": c} for c, day in worst[:WORST_DAYS]]
    if events is not None and attribution["attributed"]:
        by: dict[int, list[float]] = {}
        for e in events:
            if e["source"] is not None and e["component"] == "friends":
                by.setdefault(e["source"], []).append(e["delta"])
        rows = [{"source": s, "delta": sum(d), "events": len(d)} for s, d in by.items()]
        out["by_source"] = sorted(rows, key=lambda r: (r["delta"], r["source"]))
    return out


def _tiers(profile: dict, prefix: str) -> list[str]:
    return [k.removeprefix(prefix) for k in profile if k.startswith(prefix)]


def _standing(run: Run, profile: dict, events: list[dict] | None) -> dict[str, Any]:
    """Lists, sanctions and perks at the end of the run, and their dated events."""
    last = run.days - 1
    out: dict[str, Any] = {"lists": None, "sanctions": None, "perks": None, "dated": None}
    if "listed" in profile:
        since = profile.get("listed_since")
        out["lists"] = {
            "listed": profile["listed"],
            "since": since if since is not None and since >= 0 else None,
            "days_listed": profile.get("days_listed"),
            "redlisted": profile.get("redlisted"),
            "wrongful": profile.get("wrongful"),
        }
    tiers = _tiers(profile, "sanction_until_")
    if tiers:
        family = profile.get("sanctions_family") or 0
        out["sanctions"] = [
            {
                "tier": t,
                "held": profile[f"sanction_until_{t}"] > last,
                "until": profile[f"sanction_until_{t}"]
                if profile[f"sanction_until_{t}"] >= 0
                else None,
                "days_held": profile.get(f"sanction_days_{t}"),
                "family": bool(family >> k & 1),
            }
            for k, t in enumerate(tiers)
        ]
    perks = _tiers(profile, "perk_days_")
    if perks:
        held = profile.get("perks_held") or 0
        out["perks"] = [
            {"perk": p, "held": bool(held >> k & 1), "days_held": profile[f"perk_days_{p}"]}
            for k, p in enumerate(perks)
        ]
    if events is not None:
        out["dated"] = [
            {"day": e["day"], "kind": e["kind"], "cause": e["cause"]}
            for e in events
            if e["kind"].split(".", 1)[0] in STANDING_MODULES
        ]
    return out


def _wrong(profile: dict, events: list[dict] | None, manifest: dict) -> dict[str, Any]:
    """Whether any record about the citizen was wrong, from what the run kept (the events
    that make false records are the modules' ``false_events``, named in the manifest)."""
    flags = {k: profile[k] for k in ("wrongful", "court_wrongful") if k in profile}
    false_points = profile.get("false_points")
    false_events = None
    if events is not None:
        kinds = set(manifest.get("false_events", LEGACY_FALSE_EVENTS))
        false_events = [e for e in events if e["kind"] in kinds]
    known = bool(flags) or false_points is not None or false_events is not None
    any_wrong = any(flags.values()) or bool(false_points) or bool(false_events) if known else None
    return {
        "any": any_wrong,
        "flags": flags,
        "false_points": false_points,
        "false_events": false_events,
    }


def rerun_audit_sample(run: Run, citizen: int) -> int:
    """The smallest ``output.audit_sample`` whose stride ``ceil(n / sample)`` audits
    ``citizen`` (``n``, everyone, always does)."""
    n = run.n
    for stride in range(max(run.audit_stride, 1), 0, -1):
        sample = -(-n // stride)
        if citizen % stride == 0 and -(-n // sample) == stride:
            return sample
    return n


def lookup(run: Run | str | Path, citizen: int) -> dict[str, Any]:
    """Everything the run kept about one citizen, as one JSON-ready dict."""
    if not isinstance(run, Run):
        run = open_run(run)
    if not 0 <= citizen < run.n:
        raise RunError(
            f"CITIZEN_ID: {citizen} is not allowed; expected an integer from 0 to {run.n - 1}"
        )
    rows = run.citizen_rows("people", citizen).to_pylist()
    if len(rows) != 1:
        raise RunError(f"run directory {str(run.path)!r}: people.parquet has no citizen {citizen}")
    profile = rows[0]
    audited = run.audited(citizen)
    history = _history(run, citizen) if audited else None
    events = _events(run, citizen) if audited else None
    initial = run.scenario.get("modules", {}).get("scoring", {}).get("initial", 0.0)
    return {
        "run": {
            "path": str(run.path),
            "preset": run.manifest.get("preset"),
            "scenario": run.scenario.get("name"),
            "scenario_hash": run.manifest.get("scenario_hash"),
            "seed": run.manifest.get("seed"),
            "n": run.n,
            "days": run.days,
        },
        "citizen": citizen,
        "represents": run.represents,
        "profile": profile,
        "labels": code_labels(run, profile),
        "score": profile["score"],
        "initial": initial,
        "components": _explained(run, profile, events),
        "audited": audited,
        "audit": {
            "sample": run.audit_size,
            "stride": run.audit_stride,
            "requested": run.scenario.get("output", {}).get("audit_sample"),
            "rerun_audit_sample": None if audited else rerun_audit_sample(run, citizen),
        },
        "history": history,
        "sparkline": sparkline([h["score"] for h in history]) if history else None,
        "events_by_day": _by_day(history, events, initial) if audited else None,
        "friends": _friends(
            profile, history, events, _attribution(run, citizen), friends_keep(run)
        ),
        "standing": _standing(run, profile, events),
        "wrong_records": _wrong(profile, events, run.manifest),
    }
