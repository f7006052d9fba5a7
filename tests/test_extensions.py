"""Modules of one's own: the loyalty-bonus example of docs/extending.md runs from its scenario
file, its record reaches the report, and every mistake in naming it exits 2 with a message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from scsim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "loyalty_bonus"


def test_the_guide_shows_the_example_as_it_is():
    guide = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    for name in ("loyalty.py", "scenario.yaml"):
        assert (EXAMPLE / name).read_text(encoding="utf-8") in guide, name


def test_the_loyalty_bonus_runs_from_its_scenario_file(run_cli, tmp_path):
    out = tmp_path / "run"
    res = run_cli("run", str(EXAMPLE / "scenario.yaml"), "--n", "3000", "--days", "60",
                  "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    people = pq.read_table(out / "people.parquet").to_pydict()
    member = np.array(people["party_member"])
    share = member.mean()
    # 3 000 Bernoulli(0.0704) draws: sd 0.0047, so 4 sd is 0.019
    assert abs(share - 0.0704) < 0.019
    bonus = np.array(people["part_loyalty_bonus"])
    assert np.allclose(bonus[member], 60 * 0.05, atol=1e-3) and (bonus[~member] == 0).all()
    series = pq.read_table(out / "timeseries.parquet").to_pydict()
    assert series["bonus_paid"] == [int(member.sum())] * 60
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["records"]["bonus_paid"]["headline"] is True
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "party members given the loyalty bonus (citizens)" in html


def _with(tmp_path: Path, extension: str, **block) -> str:
    text = (EXAMPLE / "scenario.yaml").read_text(encoding="utf-8")
    text = text.replace("loyalty.py:LoyaltyBonus", extension)
    for key, value in block.items():
        text = text.replace(f"    {key}: ", f"    {key}: {value}  # was ")
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "loyalty.py").write_text((EXAMPLE / "loyalty.py").read_text(encoding="utf-8"))
    return str(path)


@pytest.mark.parametrize(
    ("extension", "block", "message"),
    [
        ("nowhere.py:LoyaltyBonus", {}, "extensions.loyalty_bonus: '"),
        ("loyalty.py:Missing", {}, "extensions.loyalty_bonus: '"),
        ("loyalty.py:LoyaltyParams", {}, "is not a subclass of scsim.protocol.Module"),
        ("loyalty.py", {}, "expected 'path/to/file.py:Class' or 'package.module:Class'"),
        ("loyalty.py:LoyaltyBonus", {"bonus": "-1"}, "modules.loyalty_bonus.bonus: -1 is not "
         "allowed"),
    ],
)  # fmt: skip
def test_naming_an_extension_wrongly_is_refused_with_the_field(tmp_path, extension, block,
                                                               message):  # fmt: skip
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_scenario(_with(tmp_path, extension, **block))


def test_an_unknown_module_without_an_extension_is_refused(tmp_path, run_cli):
    path = tmp_path / "s.yaml"
    path.write_text("name: x\npopulation: {n: 100}\nmodules:\n  loyalty: {}\n")
    res = run_cli("run", str(path), "--out", str(tmp_path / "run"))
    assert res.returncode == 2 and "modules.loyalty: no such module" in res.stderr
    assert not (tmp_path / "run").exists()
