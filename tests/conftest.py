"""Shared fixtures: small scenarios and a helper that runs the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scsim.scenario import Scenario, load_scenario


def small(n: int = 3000, days: int = 30, seed: int = 1, **overrides) -> Scenario:
    """The sc-core preset at small N, with dotted-path overrides."""
    return load_scenario("sc-core", {"population.n": n, "days": days, "seed": seed, **overrides})


def scsim_cli(*args: str, threads: int | None = None, cwd: Path | None = None):
    """Run ``scsim`` in a fresh process (optionally with NUMBA_NUM_THREADS) and capture it."""
    env = dict(os.environ)
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    return subprocess.run(
        [sys.executable, "-m", "scsim", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=600,
    )  # fmt: skip


@pytest.fixture
def run_cli():
    return scsim_cli
