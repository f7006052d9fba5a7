"""Run directories for the explorer tests: the CLI's sc-core run, and a run with listings."""

from __future__ import annotations

from pathlib import Path

import pytest

from scsim.engine import Sim
from scsim.results import write_run
from tests.conftest import scsim_cli, small

N, DAYS = 2000, 20


@pytest.fixture(scope="session")
def core_run(tmp_path_factory) -> Path:
    """`scsim run sc-core --n 2000 --days 20`: every citizen audited."""
    out = tmp_path_factory.mktemp("explorer") / "core"
    res = scsim_cli("run", "sc-core", "--n", str(N), "--days", str(DAYS), "--out", str(out))
    assert res.returncode == 0, res.stderr
    return out


@pytest.fixture(scope="session")
def listed_run(tmp_path_factory) -> Path:
    """sc-core listing below 645 without the banned-friend penalty (about a tenth of the
    citizens listed within 20 days), with one citizen in four audited (stride 4)."""
    overrides = {
        "modules.lists.blacklist_below": 645.0,
        "modules.scoring.friend_sanction_penalty": 0.0,
        "output.audit_sample": N // 4,
    }
    scenario = small(n=N, days=DAYS, seed=3, **overrides)
    out = tmp_path_factory.mktemp("explorer") / "listed"
    return write_run(Sim(scenario).build().run(), out, None, 1)
