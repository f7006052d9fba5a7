"""Two run directories compared file by file: what a resumed or an MPI run must reproduce."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

NOT_COMPARED = ("timings", "created", "machine", "agent_steps_per_s", "threads", "ranks")
"""Manifest keys that say how and when a run ran, not what it computed."""


def same_run_files(a: Path, b: Path, held_apart: tuple[str, ...] = ()) -> None:
    """Every file of two run directories the same, but for how and when they ran: parquet files
    byte for byte, the manifest but ``NOT_COMPARED`` (and ``held_apart``), the report but its
    run header."""
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for path in a.iterdir():
        if path.suffix == ".parquet":
            assert path.read_bytes() == (b / path.name).read_bytes(), path.name
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (a, b))
    skipped = (*NOT_COMPARED, *held_apart)
    assert {k: v for k, v in ma.items() if k not in skipped} == {
        k: v for k, v in mb.items() if k not in skipped
    }
    if not (a / "report.html").exists():  # a run written without its report
        return
    header = re.compile(r'<header id="run">.*?</header>', re.S)
    ra, rb = (header.sub("", (d / "report.html").read_text()) for d in (a, b))
    assert ra == rb


def wait_for_checkpoint(proc: subprocess.Popen, meta: Path, past: int) -> None:
    """Wait (at most 300 s) until the running ``proc`` has written a checkpoint after a day
    later than ``past`` (its ``checkpoint.json`` says so); fail if it ends first."""
    deadline, day = time.monotonic() + 300, 0
    while day <= past:
        assert proc.poll() is None, f"the run ended before a checkpoint past day {past}"
        assert time.monotonic() < deadline
        try:
            day = json.loads(meta.read_text())["day"]
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
