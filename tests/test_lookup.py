"""`scsim lookup`: one citizen's profile, score breakdown, history, events and standing."""

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import scsim.lookup as lookup_module
from scsim.cli import app
from scsim.lookup import SPARK, code_labels, lookup, rerun_audit_sample, sparkline
from scsim.runs import Run, RunError, open_run
from tests.conftest import make_run

runner = CliRunner()
EVENT_COMPONENTS = ("purchases", "infractions", "speech")
"""Components fed by events with integer deltas in sc-core (friends events are checked in
tests/modules/test_attribution.py; bound is an engine term without events)."""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """sc-core, 2000 citizens, 20 days; every 4th citizen audited; a blacklist below 640 so
    that one record lists a citizen (and brings a travel ban) within the run."""
    out = tmp_path_factory.mktemp("lookup") / "run"
    return make_run(out, **{"output.audit_sample": 500, "modules.lists.blacklist_below": 640})


@pytest.fixture(scope="module")
def tables(run_dir):
    return {t: pq.read_table(run_dir / f"{t}.parquet") for t in ("people", "events", "audit")}


def _rows(table, citizen):
    return table.filter(pc.equal(table["citizen"], citizen)).to_pylist()


def _listed_audited(tables) -> int:
    people = tables["people"].to_pydict()
    return next(c for c, listed in zip(people["citizen"], people["listed"], strict=True)
                if listed and c % 4 == 0)  # fmt: skip


def test_profile_is_the_people_row(run_dir, tables):
    for citizen in (0, 7, 1999):
        r = lookup(run_dir, citizen)
        [row] = _rows(tables["people"], citizen)
        assert r["profile"] == row and r["score"] == row["score"]
        assert [c["total"] for c in r["components"]] == [
            row[f"part_{c}"] for c in ("purchases", "infractions", "speech", "friends", "bound")
        ]
        assert r["labels"] == {}  # population module off


def test_events_explain_every_component_change_exactly(run_dir, tables):
    """For every audited citizen and day, a component's change in audit.parquet equals the sum
    of the day's events the look-up assigns to it. Penalties and effects are integers, so the
    float32 parts are exact and so is the comparison."""
    run = open_run(run_dir)
    audit = tables["audit"].to_pydict()
    citizens = np.array(audit["citizen"])
    checked_events = 0
    for citizen in range(0, 2000, 4):
        r = lookup(run, citizen)
        assert r["audited"]
        mine = citizens == citizen
        days = np.array(audit["day"])[mine]
        assert days.tolist() == list(range(20)) == [h["day"] for h in r["history"]]
        assert [h["score"] for h in r["history"]] == np.array(audit["score"])[mine].tolist()
        flat = [e for d in r["events_by_day"] for e in d["events"]]
        assert len(flat) == len(_rows(tables["events"], citizen))
        assert {e["component"] for e in flat} <= {*EVENT_COMPONENTS, "friends", None}
        for comp in EVENT_COMPONENTS:
            part = np.array(audit[f"part_{comp}"], dtype=np.float64)[mine]
            change = np.diff(part, prepend=0.0)
            summed = np.zeros(20)
            for e in flat:
                if e["component"] == comp:
                    summed[e["day"]] += e["delta"]
            assert np.array_equal(change, summed), (citizen, comp)
            total = next(c for c in r["components"] if c["component"] == comp)
            assert total["from_events"] == total["total"] == part[-1]
        checked_events += len(flat)
    assert checked_events > 500


def test_friends_who_pulled_the_score_down(run_dir, tables):
    """Friends terms are attributed per friend (``scoring.friend`` events naming the friend):
    the look-up sums them by friend, most negative first, and the text lists those below zero.
    A friend named with a sanction was banned (the travel tier, imposed the day it was listed,
    lasts 365 days) before the day of the event, since flags are seen the next day."""
    events = tables["events"].to_pydict()
    friend = [k == "scoring.friend" for k in events["kind"]]
    assert sum(friend) > 10_000
    assert all(s is not None for s, f in zip(events["source"], friend, strict=True) if f)
    people = tables["people"].to_pydict()
    imposed = {c: u - 365 for c, u in zip(people["citizen"], people["sanction_until_travel"],
                                          strict=True) if u >= 0}  # fmt: skip
    sanction_events = [
        (d, s) for d, s, c, f in zip(events["day"], events["source"], events["cause"], friend,
                                     strict=True) if f and "sanctioned" in c
    ]  # fmt: skip
    assert sanction_events and all(imposed[s] < d for d, s in sanction_events)
    citizen = next(c for d, c, s, f, cause in zip(
        events["day"], events["citizen"], events["source"], friend, events["cause"], strict=True
    ) if f and "sanctioned" in cause)  # fmt: skip
    r = lookup(run_dir, citizen)
    mine = [e for d in r["events_by_day"] for e in d["events"] if e["kind"] == "scoring.friend"]
    totals: dict[int, float] = {}
    for e in mine:
        totals[e["source"]] = totals.get(e["source"], 0.0) + e["delta"]
    by = r["friends"]["by_source"]
    assert {row["source"]: row["delta"] for row in by} == totals
    assert [row["delta"] for row in by] == sorted(totals.values())
    assert by[0]["delta"] < -3  # the banned friend: -3 a day
    assert r["friends"]["total"] == r["profile"]["part_friends"]
    friends = np.diff(np.array([0.0] + [h["parts"]["friends"] for h in r["history"]]))
    assert r["friends"]["days_down"] == int((friends < 0).sum())
    falls = [w["change"] for w in r["friends"]["worst_days"]]
    assert falls == sorted(friends[friends < 0])[:3]
    res = runner.invoke(app, ["lookup", str(run_dir), str(citizen)])
    assert res.exit_code == 0, res.output
    section = res.stdout.split("Friends who pulled the score down")[1].split("Lists and")[0]
    rows = [line.split() for line in section.splitlines() if line.strip()[:1].isdigit()]
    down = [row for row in by if row["delta"] < 0][:10]
    assert [int(row[0]) for row in rows] == [row["source"] for row in down]
    assert [float(row[1]) for row in rows] == [round(row["delta"], 2) for row in down]


def test_friends_of_audited_citizens_outside_the_attribution_sample(tmp_path):
    """attribute_sample 100 of 500 audited (stride 4): citizens 0, 20, 40, ... are attributed;
    citizen 4 is audited but its friends are not named, and the text says how to name them."""
    out = make_run(
        tmp_path / "run",
        days=3,
        **{"output.audit_sample": 500, "modules.scoring.attribute_sample": 100},
    )
    assert lookup(out, 20)["friends"]["by_source"]
    r = lookup(out, 4)
    assert r["audited"] and r["friends"]["by_source"] is None
    assert r["friends"]["attribution"] == {"attributed": False, "sample": 100, "stride": 20}
    text = " ".join(_look(out, 4).stdout.split())
    assert "logged for citizens 0, 20, 40, ... (modules.scoring.attribute_sample = 100)" in text


def test_lists_and_sanctions_with_dates(run_dir, tables):
    citizen = _listed_audited(tables)
    r = lookup(run_dir, citizen)
    lists, [travel] = r["standing"]["lists"], r["standing"]["sanctions"]
    since = r["profile"]["listed_since"]
    assert lists["listed"] and lists["since"] == since >= 0 and lists["wrongful"] is False
    assert travel["tier"] == "travel" and travel["held"] and travel["until"] == since + 365
    dated = [(e["day"], e["kind"], e["cause"]) for e in r["standing"]["dated"]]
    assert (since, "lists.listed", "score") in dated
    assert (since, "sanctions.imposed", "travel") in dated
    assert r["wrong_records"]["any"] is False


def test_outside_the_audit_sample(run_dir):
    r = lookup(run_dir, 6)
    assert not r["audited"] and r["history"] is None and r["events_by_day"] is None
    assert r["audit"] == {"sample": 500, "stride": 4, "requested": 500, "rerun_audit_sample": 667}
    res = runner.invoke(app, ["lookup", str(run_dir), "6"])
    text = " ".join(res.stdout.split())
    assert res.exit_code == 0, res.output
    assert "is kept only for the audit sample" in text
    assert "output.audit_sample = 500 in the scenario" in text
    assert "set output.audit_sample: 667" in text and "Nearest audited citizens: 4 and 8." in text


def test_rerun_audit_sample_audits_the_citizen(run_dir):
    run = open_run(run_dir)
    for citizen in (1, 6, 9, 1999, 1000, 1001):
        sample = rerun_audit_sample(run, citizen)
        stride = -(-run.n // sample)
        assert citizen % stride == 0 and stride <= run.audit_stride


def _look(*args):
    return runner.invoke(app, ["lookup", *map(str, args)])


def test_json_holds_the_numbers_of_the_text(run_dir, tables):
    citizen = _listed_audited(tables)
    res_json, res_text = _look(run_dir, citizen, "--json"), _look(run_dir, citizen)
    assert res_json.exit_code == 0 and res_text.exit_code == 0, res_text.output
    r, text = json.loads(res_json.stdout), " ".join(res_text.stdout.split())
    assert r == json.loads(json.dumps(lookup(run_dir, citizen)))
    assert f"Score {r['score']:.2f} = {r['initial']:.2f} (initial)" in text
    assert r["sparkline"] in text and r["events_by_day"]
    for day in r["events_by_day"]:
        assert f"day {day['day']}: score {day['score']:.2f} ({day['change']:+.2f})" in text
        for e in day["events"]:
            cause = f" ({e['cause']})" if e["cause"] else ""
            delta = f" {e['delta']:+.2f}" if e["delta"] else ""  # zero deltas are not shown
            assert f"{e['kind']}{cause}{delta}" in text
    for c in r["components"]:
        assert f"{c['component']} {c['total']:+.2f}" in text
    assert f"blacklisted: yes since day {r['standing']['lists']['since']}" in text
    assert f"friends component {r['friends']['total']:+.2f} in total" in text
    worst = r["friends"]["worst_days"][0]
    assert f"largest falls: day {worst['day']} {worst['change']:+.2f}" in text


BAD_IDS = [
    ("2000", "CITIZEN_ID: 2000 is not allowed; expected an integer from 0 to 1999"),
    ("-1", "CITIZEN_ID: -1 is not allowed; expected an integer from 0 to 1999"),
    ("abc", "CITIZEN_ID: 'abc' is not allowed; expected an integer from 0 to 1999"),
    ("1.5", "CITIZEN_ID: '1.5' is not allowed; expected an integer from 0 to 1999"),
]


@pytest.mark.parametrize("citizen,message", BAD_IDS)
def test_bad_citizen_id_exits_2(run_dir, citizen, message):
    res = _look(run_dir, citizen)
    assert res.exit_code == 2 and message in " ".join(res.stderr.split()), res.output
    assert "Traceback" not in res.output + res.stderr


def test_bad_run_directories_exit_2(run_dir, tmp_path):
    res = _look(tmp_path / "nope", 0)
    assert res.exit_code == 2 and "does not exist" in res.stderr
    broken = shutil.copytree(run_dir, tmp_path / "broken")
    (broken / "events.parquet").unlink()
    res = _look(broken, 0)
    assert res.exit_code == 2 and "is incomplete: missing events.parquet" in res.stderr
    shutil.copytree(run_dir, tmp_path / "p.partial")
    assert "is incomplete" in " ".join(_look(tmp_path / "p", 0).stderr.split())
    with pytest.raises(RunError, match="expected an integer from 0 to 1999"):
        lookup(run_dir, 2000)


def test_modules_switched_off_degrade(run_dir, tmp_path):
    """A run without lists and sanctions: people.parquet has none of their fields."""
    bare = shutil.copytree(run_dir, tmp_path / "bare")
    people = pq.read_table(bare / "people.parquet")
    keep = [c for c in people.column_names if c in ("citizen", "score") or c.startswith("part_")]
    pq.write_table(people.select(keep), bare / "people.parquet")
    r = lookup(bare, 3)
    assert r["standing"] == {"lists": None, "sanctions": None, "perks": None, "dated": None}
    assert r["wrong_records"]["any"] is None
    text = " ".join(_look(bare, 3).stdout.split())
    assert "the lists module was off in this run" in text
    assert "unknown: no module of this run keeps wrongful records" in text


def test_labels_name_the_population_codes(run_dir):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["scenario"]["modules"]["population"] = {
        "enabled": True, "regions": "beijing", "occupations": [{"name": "farmer"}],
    }  # fmt: skip
    run = Run(run_dir, manifest)
    profile = {"region": 0, "occupation": 3, "sex": 1, "role": 2, "education": 9}
    labels = code_labels(run, profile)
    assert labels["occupation"] == "farmer" and labels["sex"] == "male"
    assert labels["role"] == "child" and "education" not in labels  # code 9: no name
    assert labels["region"] == "dongcheng"


def test_sparkline():
    assert sparkline([]) == ""
    assert sparkline([1.0, 1.0]) == SPARK[4] * 2
    assert sparkline([0.0, 1.0, 2.0]) == SPARK[0] + SPARK[4] + SPARK[7]
    line = sparkline(list(range(365)), width=60)
    assert len(line) == 53 and line[0] == SPARK[0] and line[-1] == SPARK[-1]  # 7 days a bucket


def test_one_agent_standing_for_many_people(run_dir, tmp_path):
    r, text = lookup(run_dir, 4), " ".join(_look(run_dir, 4).stdout.split())
    assert r["represents"] == 1.0 and "standing for" not in text
    scaled = shutil.copytree(run_dir, tmp_path / "scaled")
    manifest = json.loads((scaled / "manifest.json").read_text())
    manifest["scenario"]["population"]["represents"] = 10_000.0
    (scaled / "manifest.json").write_text(json.dumps(manifest))
    res = _look(scaled, 4, "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["represents"] == 10_000.0
    assert {k: v for k, v in s.items() if k not in ("represents", "run")} == json.loads(
        json.dumps({k: v for k, v in r.items() if k not in ("represents", "run")})
    )  # the same agent, the same numbers
    text = " ".join(_look(scaled, 4).stdout.split())
    assert "one synthetic agent standing for 10,000 people (population.represents)" in text


def test_a_friends_term_fading_with_the_memory_is_not_a_fall():
    """With a memory the friends component shrinks every day by itself; a look-up names as
    falls only the days its own change (after yesterday's fading) was negative: here one day of
    -3 among thirty days of a +12 term fading with a 10-day half-life."""
    keep = float(np.float32(0.5 ** (1 / 10)))
    parts, value = [], 12.0
    for day in range(30):
        value = float(np.float32(value) * np.float32(keep)) - (3.0 if day == 17 else 0.0)
        parts.append(value)
    history = [{"day": d, "parts": {"friends": p}} for d, p in enumerate(parts)]
    profile = {"part_friends": parts[-1]}
    attribution = {"attributed": False}
    faded = lookup_module._friends(profile, history, None, attribution, keep)
    assert faded["days_down"] == 1 and faded["worst_days"][0]["day"] == 17
    assert abs(faded["worst_days"][0]["change"] + 3.0) < 1e-4
    naive = lookup_module._friends(profile, history, None, attribution)
    assert naive["days_down"] == 29  # without the factor every day after the first looks a fall


def test_the_friends_memory_is_read_from_the_run(tmp_path):
    run = open_run(make_run(tmp_path / "run", n=500, days=3, **{
        "modules.scoring.half_life": 365, "modules.scoring.half_lives": {"friends": 30},
    }))  # fmt: skip
    assert lookup_module.friends_keep(run) == float(np.float32(0.5 ** (1 / 30)))
    plain = open_run(make_run(tmp_path / "plain", n=500, days=3))
    assert lookup_module.friends_keep(plain) == 1.0


def test_false_records_are_the_events_modules_declare_false(tmp_path):
    """A misidentified camera sighting is a false record in the look-up; an infraction called
    ``false_information`` is a real act, not a false record (the name says nothing)."""
    from scsim import api
    from tests.modules.test_surveillance import cameras, watched

    kinds = [{"name": "false_information", "rate": 0.05, "detect_prob": 0.0, "penalty": -15.0,
              "place": "street"}]  # fmt: skip
    run = api.run(watched(cameras(0.3), kinds)).save(tmp_path / "run", report=False)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["false_events"] == ["surveillance.misattributed", "surveillance.false_record"]
    events = pq.read_table(run / "events.parquet").to_pydict()
    wronged = {c for c, k in zip(events["citizen"], events["kind"], strict=True)
               if k == "surveillance.false_record"}  # fmt: skip
    acted = {c for c, k in zip(events["citizen"], events["kind"], strict=True)
             if k == "infractions.recorded"} - wronged  # fmt: skip
    assert wronged and acted
    found = lookup_module.lookup(run, min(wronged))["wrong_records"]
    assert found["any"] and {e["kind"] for e in found["false_events"]} >= {
        "surveillance.false_record"
    }
    clean = lookup_module.lookup(run, min(acted))["wrong_records"]
    assert not clean["false_events"]
