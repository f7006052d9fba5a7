"""A run on a Watts-Strogatz network held by its ring (``Sim(network_form="ring")``) is the run
on its CSR form, bit for bit: the fused kernel's view and prefetch, the friends' attribution and
the picks of peer rating and look-ups read the same ties in the same order."""

import numpy as np
import pytest

from scsim.engine import RING_FROM, Sim
from scsim.network import Graph, RingGraph
from scsim.scenario import load_scenario


def _run(name: str, form: str, python: bool = False, n: int = 3000, days: int = 30) -> Sim:
    over = {"population.n": n, "days": days, "output.audit_sample": n // 2}
    return Sim(load_scenario(name, over), network_form=form, python=python).run()


# china-2020: every state module, public flags and attribution; peer-rating: peer rating's and
# look-ups' picks; china-court-list: k = 4, where the wrap rows are a larger share (its court
# list moves slowly: few events in 30 days, and no friends terms to attribute)
@pytest.mark.parametrize(
    "name, walked", [("china-2020", True), ("peer-rating", True), ("china-court-list", False)]
)
def test_the_ring_form_makes_the_csr_forms_run(name, walked):
    csr, ring = _run(name, "csr"), _run(name, "ring")
    assert isinstance(csr.graph, Graph) and isinstance(ring.graph, RingGraph)
    assert ring.graph.nbytes < csr.graph.nbytes / 3  # k = 4: 9.6 bytes a citizen against 36
    assert np.array_equal(csr.records, ring.records) and csr.records.any()
    assert np.array_equal(csr.packed, ring.packed) and np.array_equal(csr.parts, ring.parts)
    for field, values in csr.people.fields.items():
        assert np.array_equal(values, ring.people.fields[field]), field
    events = csr.events.columns()
    for column, values in events.items():
        assert np.array_equal(values, ring.events.columns()[column]), column
    friends = [k for k, (m, kind) in enumerate(csr.event_kinds) if kind == "friend"]
    assert (np.isin(events["kind"], friends).sum() > 100) == walked  # attribution walked rows


def test_the_plain_python_day_on_the_ring_form_is_the_compiled_one():
    # sc-core, whose records the Python day makes as the compiled one does (tests/test_trace.py;
    # china-2020's chilling risk is summed in another float order there)
    compiled = _run("sc-core", "ring", n=800, days=4)
    python = _run("sc-core", "ring", python=True, n=800, days=4)
    assert np.array_equal(compiled.records, python.records) and compiled.records.any()
    assert np.array_equal(compiled.score, python.score)
    assert np.array_equal(python.score, _run("sc-core", "csr", python=True, n=800, days=4).score)


def test_auto_holds_the_ring_from_its_size_and_never_with_shunning():
    scenario = load_scenario("sc-core", {"population.n": RING_FROM})
    assert Sim(scenario).holds_ring() and not Sim(scenario, network_form="csr").holds_ring()
    small = load_scenario("sc-core", {"population.n": RING_FROM - 1})
    assert not Sim(small).holds_ring() and Sim(small, network_form="ring").holds_ring()
    shunning = load_scenario("sc-core", {"population.n": 5000, "modules.shunning": {}})
    assert not Sim(shunning, network_form="ring").holds_ring()
    with pytest.raises(ValueError, match="network_form: 'rings'"):
        Sim(small, network_form="rings")


def test_a_checkpoint_of_a_ring_run_is_built_again_on_its_ring_and_resumes(tmp_path):
    # the state file holds the ring's checksums, not its arrays; loading builds the ring form
    # again from the seed, and the resumed run is the run made in one go
    from scsim.checkpoint import read_trailer
    from tests.test_checkpoint import assert_same, tables

    scenario = load_scenario("china-2020", {"population.n": 2500, "days": 30, "seed": 5})
    whole = Sim(scenario, network_form="ring").run()
    sim = Sim(scenario, network_form="ring").build()
    for day in range(12):
        sim.step(day)
    sim.save_checkpoint(tmp_path / "state.bin")
    assert {"graph.ring", "graph.xptr", "graph.xind"} == set(
        read_trailer(tmp_path / "state.bin")["seeded"]["arrays"]
    )
    loaded = Sim.load_checkpoint(tmp_path / "state.bin")
    assert isinstance(loaded.graph, RingGraph) and loaded.day == 12
    assert_same(tables(whole), tables(loaded.run()))
