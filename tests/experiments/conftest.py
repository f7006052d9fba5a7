"""Sweep files for the experiments' tests: sc-core at small size, written to a temp folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

END = "SELECT {col} FROM timeseries WHERE day = (SELECT max(day) FROM timeseries)"


def sweep_data(**changes: Any) -> dict[str, Any]:
    """A small sweep of sc-core: the blacklist threshold and the speech penalty, two outcomes."""
    data: dict[str, Any] = {
        "base": "sc-core",
        "n": 2000,
        "days": 40,
        "seed": 3,
        "replicates": 2,
        "design": {"kind": "latin", "samples": 3},
        "parameters": {
            "modules.lists.blacklist_below": {"low": 480, "high": 540},
            "modules.speech.penalty": {"low": -60.0, "high": -10.0},
        },
        "outcomes": {
            "banned": {"sql": END.format(col="banned"), "label": "citizens banned"},
            "mean_score": END.format(col="mean_score"),
        },
    }
    data.update(changes)
    return data


@pytest.fixture
def write_sweep(tmp_path: Path):
    def write(**changes: Any) -> Path:
        path = tmp_path / "sweep.yaml"
        path.write_text(yaml.safe_dump(sweep_data(**changes), sort_keys=False))
        return path

    return write
