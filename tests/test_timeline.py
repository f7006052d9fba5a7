"""The policy timeline: a change acts exactly from its day, leaves the days before it and other
modules' draws bit-identical, never recompiles the fused kernel; bad events stop with exit 2.

All runs use the sc-core kernel (one compile); everyone is audited (n < audit_sample).
"""

import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from scsim.cli import app
from scsim.engine import Sim
from scsim.rng import _uniforms_into, stream_day_key
from scsim.scenario import ScenarioError, load_raw
from tests.conftest import small

N, DAYS, D = 2000, 24, 12


def _sim(*events, **overrides) -> Sim:
    return Sim(small(n=N, days=DAYS, timeline=list(events), **overrides)).build()


def _kinds(sim):
    return [f"{m}.{k}" for m, k in sim.event_kinds]


def test_threshold_change_acts_exactly_from_its_day_and_not_before():
    """Blacklist threshold 500 -> 640 on day D: before D every array and record equals the
    run without the timeline; from D, listed == (score < 640) exactly (removal: score), and
    the listed record replays from the final scores of each day."""
    base = _sim()
    changed = _sim({"day": D, "set": {"modules.lists.blacklist_below": 640}})
    signatures = len(changed.kernel.signatures)
    assert changed.kernel is base.kernel  # same hooks: the same fused kernel
    for day in range(DAYS):
        base.step(day)
        changed.step(day)
        threshold = 640 if day >= D else 500
        assert np.array_equal(changed.people.listed, changed.score < threshold), day
        assert changed.record("listed")[day] == (changed.score < threshold).sum()
        if day < D:
            assert np.array_equal(changed.packed, base.packed), day
            assert np.array_equal(changed.parts, base.parts), day
            assert np.array_equal(changed.records[: day + 1], base.records[: day + 1]), day
    listed_base, listed_changed = base.record("listed"), changed.record("listed")
    assert listed_changed[D] > listed_base[D] + 50  # the change bites on day D itself
    assert len(changed.kernel.signatures) == signatures  # no recompile mid-run


def test_changing_one_module_leaves_other_modules_draws_alone():
    """Speech (detection, penalty) and the infractions weight change on day D. Good deeds and
    infractions (draws independent of the score) are identical on every day; speech attempts
    identical before D; infraction events cost -15 before D and -30 (weight 2) from D, a
    detected speech act -60 from D (the refreshed cached penalties)."""
    base = _sim().run()
    changed = _sim({"day": D, "set": {
        "modules.speech.detect_prob": 1.0, "modules.speech.penalty": -60,
        "modules.scoring.weights.infractions": 2,
    }}).run()  # fmt: skip
    for name in ("purchases_good_deed", "infractions_committed", "infractions_detected"):
        assert np.array_equal(base.record(name), changed.record(name)), name
    assert np.array_equal(
        base.record("speech_attempted")[:D], changed.record("speech_attempted")[:D]
    )
    assert np.array_equal(base.records[:D], changed.records[:D])
    ev = changed.events.columns()
    recorded = ev["kind"] == _kinds(changed).index("infractions.recorded")
    before, after = recorded & (ev["day"] < D), recorded & (ev["day"] >= D)
    assert before.sum() > 20 and after.sum() > 20
    assert np.all(ev["delta"][before] == -15) and np.all(ev["delta"][after] == -30)
    speech = (ev["kind"] == _kinds(changed).index("speech.recorded")) & (ev["day"] >= D)
    assert speech.sum() > 20 and np.all(ev["delta"][speech] == -60)
    unseen = (ev["kind"] == _kinds(changed).index("speech.unseen")) & (ev["day"] >= D)
    assert unseen.sum() == 0  # detect_prob 1 from D


def test_a_switch_takes_effect_on_its_day():
    """A switch of an existing module stands in for surveillance's pooling: speech.chill
    linear -> none on day D. From D, the attempts replay exactly from the speech stream's
    draws (attempt iff u < dissent); before D the linear chill (score 650 -> x 0.5) keeps them
    well below that (expected half; 0.7 leaves > 10 sigma at ~15 attempts a day)."""
    sim = _sim({"day": D, "set": {"modules.speech.chill": "none"}}).run()
    dissent = sim.people.dissent.astype(np.float64)
    u_hi, u_lo = np.empty(N), np.empty(N)
    unchilled = []
    for day in range(DAYS):
        _uniforms_into(stream_day_key(sim.seed, "speech.act", day), u_hi, u_lo)
        unchilled.append(int((u_hi < dissent).sum()))
    attempted = sim.record("speech_attempted")
    assert np.array_equal(attempted[D:], unchilled[D:])
    assert attempted[:D].sum() < 0.7 * sum(unchilled[:D])


# ------------------------------------------------------------------ bad timelines: exit 2

runner = CliRunner()

BAD = [
    ({"day": 5, "set": {"modules.lists.blacklist_below": -5}},
     "timeline[0].set: modules.lists.blacklist_below: -5 is not allowed; expected a number >= 0"),
    ({"day": 5, "set": {"modules.lists.blacklist_belo": 520}},
     "timeline[0].set.modules.lists.blacklist_belo: 'blacklist_belo' is not a parameter of "
     "modules.lists; expected one of ['act_days', 'aggravated_share', 'appeal_delay'"),
    ({"day": 40, "set": {"modules.lists.blacklist_below": -5}},
     "timeline[0].set: modules.lists.blacklist_below: -5 is not allowed"),
    ({"day": 5, "set": {"modules.expiry.after_days": 30}},
     "timeline[0].set.modules.expiry.after_days: modules.expiry is not on in this scenario, and a "
     "module cannot be switched on or off mid-run"),
    ({"day": 5, "set": {"modules.speech.enabled": False}},
     "timeline[0].set.modules.speech.enabled: modules.speech is on"),
    ({"day": 5, "set": {"modules.surveillance.pooling": True}},
     "timeline[0].set.modules.surveillance.pooling: modules.surveillance is not on in this "
     "scenario, and a module cannot be switched on or off mid-run"),
    ({"day": 5, "set": {"modules.lists.appeals": True}},
     "timeline[0].set.modules.lists.appeals: cannot change mid-run: appeals fuse a hook"),
    ({"day": 5, "set": {"modules.speech.dissent.high": 0.1}},
     "timeline[0].set.modules.speech.dissent.high: cannot change mid-run: traits are drawn once"),
    ({"day": 5, "set": {"modules.scoring.friend_listed_penalty": -1}},
     "timeline[0].set: modules.scoring.friend_listed_penalty would change the fused day kernel"),
    ({"day": 5, "set": {"modules.infractions.kinds.1.rate": 0.1}},
     "timeline[0].set.modules.infractions.kinds.1.rate: '1' is not an entry of "
     "modules.infractions.kinds; expected an index from 0 to 0"),
    ({"day": 5, "set": {"modules.infractions.kinds": []}},
     "timeline[0].set.modules.infractions.kinds: a list or mapping is not allowed"),
    ({"day": 5, "set": {"days": 10}},
     "timeline[0].set.days: is not a parameter path; expected modules.<module>.<parameter>"),
    ({"day": 5}, "timeline[0]: expected set: {<path>: <value>} and/or amnesty: {...}"),
    ({"day": 5, "amnesty": {"listings": True}},
     "timeline[0].amnesty: needs modules.policy (it carries out and records amnesties)"),
    ({"day": -1, "set": {"modules.lists.blacklist_below": 520}},
     "timeline[0].day: -1 is not allowed; expected an integer >= 0"),
]  # fmt: skip


@pytest.mark.parametrize("event,message", BAD, ids=[m[:50] for _, m in BAD])
def test_bad_timeline_event_exits_2_naming_event_path_value_and_rule(tmp_path, event, message):
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"] = 1000, 30
    raw["timeline"] = [{"day": 1, "set": {"modules.speech.penalty": -20}}, event]
    message = message.replace("timeline[0]", "timeline[1]")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", str(path), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.stderr.split()), res.stderr
    assert "Traceback" not in res.output + res.stderr
    assert not out.exists() and not list(tmp_path.glob("run*"))


def test_events_after_the_last_day_are_skipped_with_a_warning(tmp_path):
    """Users shorten runs: an event dated after the run's last day does not happen, the run
    says which one, and the event is still checked (the BAD case at day 40 above)."""
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"] = 1000, 10
    raw["timeline"] = [
        {"day": 3, "set": {"modules.speech.penalty": -40}},
        {"day": 184, "set": {"modules.lists.blacklist_below": 600}},
    ]
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(raw))
    res = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    warning = " ".join(res.stderr.split())
    assert "timeline[1] (day 184) falls after the run's last day (9): not applied" in warning
    assert "timeline[0]" not in warning


def test_events_apply_in_day_order_and_cumulatively():
    """Events listed out of order apply by day; each keeps the changes before it; an invalid
    event is named by its index in the file."""
    from scsim.timeline import Timeline

    sc = small(days=30, timeline=[
        {"day": 20, "set": {"modules.speech.penalty": -40}},
        {"day": 9, "set": {"modules.lists.blacklist_below": 600}},
        {"day": 3, "set": {"modules.lists.blacklist_below": 520}},
    ])  # fmt: skip
    changes = Timeline(sc).changes
    assert sorted(changes) == [3, 9, 20]
    assert [changes[d].lists.blacklist_below for d in (3, 9, 20)] == [520, 600, 600]
    assert [changes[d].speech.penalty for d in (3, 9, 20)] == [-25, -25, -40]
    assert sc.modules.lists.blacklist_below == 500  # the scenario as given is unchanged
    with pytest.raises(ScenarioError, match=r"^timeline\[1\]\.set: modules\.speech\.penalty: 5 "):
        small(timeline=[
            {"day": 9, "set": {"modules.lists.blacklist_below": 600}},
            {"day": 3, "set": {"modules.speech.penalty": 5}},
        ])  # fmt: skip


def test_run_directory_records_the_timeline(tmp_path):
    """The manifest holds the scenario as run, timeline included."""
    raw = load_raw("sc-core")
    raw["population"]["n"], raw["days"] = 1000, 6
    raw["timeline"] = [{"day": 3, "set": {"modules.lists.blacklist_below": 640}}]
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["timeline"] == [
        {"day": 3, "set": {"modules.lists.blacklist_below": 640}, "amnesty": None}
    ]


@pytest.mark.parametrize("module", ["finance", "courts", "surveillance"])
def test_modules_that_build_state_from_parameters_refuse_dated_changes(module):
    """Finance, courts and surveillance derive rates, first events and coverage before day 0:
    a dated change to them is refused, never silently ignored."""
    path = {"finance": "miss_prob", "courts": "error_rate", "surveillance": "pooling"}[module]
    with pytest.raises(ScenarioError, match=f"modules.{module}.{path}: cannot change mid-run"):
        small(days=30, **{f"modules.{module}": {}, "timeline": [
            {"day": 5, "set": {f"modules.{module}.{path}": 0.5 if path != "pooling" else False}},
        ]})  # fmt: skip


def test_a_change_frees_what_it_rebuilds_before_building_it(monkeypatch):
    # a large run's peak: a catalogue holds per-citizen rates (its traits and totals), rebuilt on
    # any dated change; the old arrays must be gone before the new are built, not beside them
    # (china-2020's mandate: ~25 bytes a citizen more at the peak before this)
    import gc
    import weakref

    from scsim.modules import catalogue, infractions, purchases
    from scsim.scenario import validate

    raw = load_raw("china-2020")
    raw["population"]["n"], raw["days"] = 2500, 4
    raw["timeline"][0]["day"] = 2
    sim = Sim(validate(raw)).build()
    sim.step(0)
    sim.step(1)
    old = {m: weakref.ref(sim.module(m).catalogue.totals) for m in ("purchases", "infractions")}
    assert all(ref().shape == (2500,) for ref in old.values())  # shaped: one rate per citizen
    alive = {}

    class Recording(catalogue.CatalogueRates):
        def __init__(self, entries, people) -> None:
            gc.collect()
            module = "purchases" if isinstance(entries[0], purchases.Category) else "infractions"
            alive[module] = old[module]() is not None
            super().__init__(entries, people)

    monkeypatch.setattr(purchases, "CatalogueRates", Recording)
    monkeypatch.setattr(infractions, "CatalogueRates", Recording)
    sim.step(2)
    assert alive == {"purchases": False, "infractions": False}
