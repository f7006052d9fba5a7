"""Shared fixtures: small scenarios and a helper that runs the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from scsim.scenario import Scenario, load_scenario


LONGEST_FIRST = (
    "tests/test_mpi_run.py",
    "tests/experiments/test_calibrated_presets.py",
    "tests/test_cli_sweep.py",
    "tests/experiments/test_sweep.py",
    "tests/test_checkpoint.py",
    "tests/test_steady.py",
    "tests/modules/test_shunning.py",
    "tests/experiments/test_calibrate.py",
    "tests/modules/test_lists.py",
    "tests/test_paired.py",
)
"""The files that take longest (``make test``'s durations summed by file, empty kernel cache:
311 s for the MPI runs to 25 s), in that order.
``make test`` hands whole files to its two workers in collection order (``--dist loadfile
--no-loadscope-reorder``); starting with the longest keeps one worker from running a long file
alone at the end while the other has finished."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Collect ``LONGEST_FIRST`` first, in its order; the other files keep theirs."""
    rank = {path: k for k, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(autouse=True)
def one_numba_thread():
    """Tests run in-process kernels on one numba thread unless they set their own: the suite
    runs two workers on two cores, and a parallel kernel on oversubscribed cores spends most of
    a short day waiting for its other thread (tests/test_steady.py's two cascade tests, with
    one more busy process on the machine: 439 s and 327 s on two threads, 15 s and 20 s on
    one). Results are bit-identical for any thread count, which the tests that set 1 and 2
    threads themselves check; CLI subprocesses keep the default."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(threads)


def small(n: int = 3000, days: int = 30, seed: int = 1, **overrides) -> Scenario:
    """The sc-core preset at small N, with dotted-path overrides."""
    return load_scenario("sc-core", {"population.n": n, "days": days, "seed": seed, **overrides})


def event_days(sim, kind: str) -> dict[int, int]:
    """Citizen -> day of its event ``kind`` ('module.kind') in a run's audit log (the last,
    when a citizen has several)."""
    ev = sim.events.columns()
    names = [f"{m}.{k}" for m, k in sim.event_kinds]
    at = ev["kind"] == names.index(kind)
    return dict(zip(ev["citizen"][at].tolist(), ev["day"][at].tolist(), strict=True))


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


def make_run(out: Path, n: int = 2000, days: int = 20, **overrides) -> Path:
    """Write the run directory of the sc-core preset at small N (dotted-path overrides, e.g.
    ``**{"modules.lists.blacklist_below": 640}``) to ``out``, in process; return ``out``."""
    import yaml
    from typer.testing import CliRunner

    from scsim.cli import app
    from scsim.scenario import load_raw

    raw = load_raw("sc-core")
    for path, value in {"population.n": n, "days": days, **overrides}.items():
        node = raw
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    scenario = out.with_name(out.name + ".yaml")
    scenario.write_text(yaml.safe_dump(raw))
    res = CliRunner().invoke(app, ["run", str(scenario), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out
