"""The text form of a look-up (``scsim lookup``): the dict of ``scsim.lookup.lookup`` rendered
for a terminal with rich, holding the same numbers as its ``--json`` form."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scsim.scale import number

ENGINE_NOTES = {
    "bound": "engine term (clipped to the score range)",
}
TOP_FRIENDS = 10
"""Friends who pulled the score down that the text form lists (``--json`` has them all)."""
SKIP_PROFILE = ("citizen", "score")


def _num(x: float | None, sign: bool = False) -> str:
    if x is None:
        return "-"
    return f"{x:+.2f}" if sign else f"{x:.2f}"


def _yes(x: bool | None) -> str:
    return "-" if x is None else ("yes" if x else "no")


def _heading(console: Console, text: str) -> None:
    console.print()
    console.print(f"[bold]{escape(text)}[/]")


def _profile(console: Console, r: dict[str, Any]) -> None:
    _heading(console, "Profile (final state)")
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 2))
    for key, value in r["profile"].items():
        if key in SKIP_PROFILE or key.startswith("part_"):
            continue
        label = r["labels"].get(key)
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        table.add_row(key, escape(shown + (f" ({label})" if label else "")))
    console.print(table)


def _components(console: Console, r: dict[str, Any]) -> None:
    _heading(console, f"Score {_num(r['score'])} = {_num(r['initial'])} (initial) + components")
    table = Table(box=None, padding=(0, 2, 0, 2))
    for col in ("component", "total", "from events", ""):
        table.add_column(col, justify="right" if col in ("total", "from events") else "left")
    for c in r["components"]:
        note = ENGINE_NOTES.get(c["component"], "")
        events = "-" if c["events"] is None else f"{_num(c['from_events'], True)}"
        count = "" if c["events"] is None else f"{c['events']} events"
        table.add_row(c["component"], _num(c["total"], True), events, note or count)
    console.print(table)


def _audit(console: Console, r: dict[str, Any]) -> None:
    a, n, citizen = r["audit"], r["run"]["n"], r["citizen"]
    stride = a["stride"]
    who = f"citizens 0, {stride}, {2 * stride}, ..." if stride > 1 else "every citizen"
    if r["audited"]:
        _heading(console, f"Audit sample: yes ({who}; {a['sample']:,} audited)")
        return
    _heading(console, "Audit sample: no")
    near = ""
    if stride:
        lo = citizen - citizen % stride
        hi = lo + stride
        near = f" Nearest audited citizens: {lo}" + (f" and {hi}." if hi < n else ".")
    console.print(
        "The day-by-day history (scores, events, dates) is kept only for the audit sample "
        f"({who}: output.audit_sample = {a['requested']} in the scenario). To follow this "
        "citizen, copy the scenario from manifest.json into a YAML file, set "
        f"output.audit_sample: {a['rerun_audit_sample']} (n = {n} audits everyone) and "
        "`scsim run` it; the same seed gives the same run." + near,
        highlight=False,
    )


def _history(console: Console, r: dict[str, Any]) -> None:
    h = r["history"]
    if not h:
        return
    scores = [d["score"] for d in h]
    lo = min(range(len(h)), key=lambda k: scores[k])
    hi = max(range(len(h)), key=lambda k: scores[k])
    _heading(console, f"Score history, days {h[0]['day']}-{h[-1]['day']}")
    console.print(f"  {r['sparkline']}")
    console.print(
        f"  {_num(r['initial'])} -> {_num(scores[-1])}; lowest {_num(scores[lo])} on day "
        f"{h[lo]['day']}, highest {_num(scores[hi])} on day {h[hi]['day']}",
        highlight=False,
    )


def _events(console: Console, r: dict[str, Any]) -> None:
    days = r["events_by_day"]
    if days is None:
        return
    _heading(console, f"Events by day ({sum(len(d['events']) for d in days)} events)")
    if not days:
        console.print("  none: every change came from the engine terms (friends, bound)")
    for d in days:
        parts = ", ".join(f"{c} {_num(v, True)}" for c, v in d["components"].items())
        console.print(
            f"  day {d['day']}: score {_num(d['score'])} ({_num(d['change'], True)})"
            + (f"; {escape(parts)}" if parts else ""),
            highlight=False,
        )
        for e in d["events"]:
            src = f" from citizen {e['source']}" if e["source"] is not None else ""
            cause = f" ({e['cause']})" if e["cause"] else ""
            delta = f" {_num(e['delta'], True)}" if e["delta"] else ""
            console.print(f"      {escape(e['kind'] + cause)}{delta}{src}", highlight=False)


def _friends(console: Console, r: dict[str, Any]) -> None:
    f = r["friends"]
    _heading(console, "Friends who pulled the score down")
    if f["total"] is None:
        console.print("  the friends terms were off in this run (no friends component)")
        return
    line = f"  friends component {_num(f['total'], True)} in total"
    if "days_down" in f:
        line += f"; it fell on {f['days_down']} days (falls sum to {_num(f['down_total'], True)})"
    console.print(line, highlight=False)
    if f.get("worst_days"):
        worst = ", ".join(f"day {w['day']} {_num(w['change'], True)}" for w in f["worst_days"])
        console.print(f"  largest falls: {worst}", highlight=False)
    by = f.get("by_source")
    att = f["attribution"]
    if by is None and r["audited"]:
        k = att["stride"]
        every = f"citizens 0, {k}, {2 * k}, ..." if k else "nobody"
        console.print(
            f"  friends' shares were logged for {every} (modules.scoring.attribute_sample = "
            f"{att['sample']}), not for this citizen; raise it to name the friends"
        )
    if by is None:
        return
    down = [row for row in by if row["delta"] < 0]
    if not down:
        console.print("  no friend's share of the friends terms summed below zero")
        return
    table = Table("friend", "score change", "events", box=None, padding=(0, 2, 0, 2))
    for row in down[:TOP_FRIENDS]:
        table.add_row(str(row["source"]), _num(row["delta"], True), str(row["events"]))
    console.print(table)
    if len(down) > TOP_FRIENDS:
        console.print(f"  and {len(down) - TOP_FRIENDS} more (--json lists every friend)")


def _standing(console: Console, r: dict[str, Any]) -> None:
    s = r["standing"]
    _heading(console, "Lists and sanctions")
    lst = s["lists"]
    if lst is None:
        console.print("  the lists module was off in this run")
    else:
        since = f" since day {lst['since']}" if lst["listed"] and lst["since"] is not None else ""
        console.print(
            f"  blacklisted: {_yes(lst['listed'])}{since} ({lst['days_listed']} days listed in "
            f"all); redlisted: {_yes(lst['redlisted'])}; wrongful: {_yes(lst['wrongful'])}",
            highlight=False,
        )
    for t in s["sanctions"] or []:
        until = f", until day {t['until']}" if t["until"] is not None else ""
        fam = " (as a family member)" if t["family"] else ""
        console.print(
            f"  sanction {t['tier']}: held {_yes(t['held'])}{until}{fam}; "
            f"{t['days_held']} days held in all",
            highlight=False,
        )
    if s["sanctions"] is None:
        console.print("  the sanctions module was off in this run")
    for p in s["perks"] or []:
        console.print(f"  perk {p['perk']}: held {_yes(p['held'])}; {p['days_held']} days held")
    for e in s["dated"] or []:
        cause = f" ({e['cause']})" if e["cause"] else ""
        console.print(f"  day {e['day']}: {escape(e['kind'] + cause)}", highlight=False)


def _wrong(console: Console, r: dict[str, Any]) -> None:
    w = r["wrong_records"]
    _heading(console, "Wrong records")
    if w["any"] is None:
        console.print("  unknown: no module of this run keeps wrongful records")
        return
    flags = ", ".join(f"{k}: {_yes(v)}" for k, v in w["flags"].items())
    extra = f"; false points {_num(w['false_points'])}" if w["false_points"] is not None else ""
    console.print(f"  any wrong record: {_yes(w['any'])} ({flags or 'no flags'}{extra})")
    for e in w["false_events"] or []:
        console.print(f"  day {e['day']}: {escape(e['kind'])} {_num(e['delta'], True)}")


def render(result: dict[str, Any], console: Console) -> None:
    """Print a look-up for a terminal."""
    run = result["run"]
    console.print(
        f"[bold]citizen {result['citizen']}[/] of run {escape(run['path'])} "
        f"({escape(str(run['scenario']))}, seed {run['seed']}, {run['n']:,} citizens, "
        f"{run['days']} days)",
        highlight=False,
    )
    factor = result.get("represents", 1.0)
    if factor > 1:
        console.print(
            f"one synthetic agent standing for {number(factor)} people (population.represents); "
            "everything below is about this one agent",
            highlight=False,
        )
    _profile(console, result)
    _components(console, result)
    _audit(console, result)
    _history(console, result)
    _events(console, result)
    _friends(console, result)
    _standing(console, result)
    _wrong(console, result)
