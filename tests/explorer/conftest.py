"""Run directories for the explorer tests: the CLI's sc-core run, and a run with listings."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free port of 127.0.0.1; yields its URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
