"""Explorer latency (issue 6): time the citizen look-up and search endpoints in-process
(FastAPI's TestClient) on a 1 M-citizen run; print one JSON line.

    python bench/explorer.py --run runs/sc1m        # an existing run directory
    python bench/explorer.py                        # first runs sc-core, 1 M citizens, 365 days

Each endpoint is asked ``--repeat`` times (different citizens / pages) after one warm-up
request; the row gives the median and the slowest, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def make_run(out: Path) -> Path:
    cmd = [sys.executable, "-m", "scsim", "run", "sc-core", "--n", "1000000", "--days", "365",
           "--seed", "7", "--out", str(out)]  # fmt: skip
    print("$ scsim " + " ".join(cmd[3:]), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    return out


def timed(client, urls: list[str]) -> dict[str, float]:
    """Median and slowest response time (ms) over ``urls``, after one warm-up request."""
    assert client.get(urls[0]).status_code == 200
    times = []
    for url in urls:
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.text)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="run directory [a new 1 M-citizen sc-core run]")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    import scsim
    from scsim.explorer.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        run = args.run or make_run(Path(tmp) / "sc1m")
        client = TestClient(create_app([run]), base_url="http://127.0.0.1")
        summary = client.get("/api/runs/0").json()
        n, stride, k = summary["n"], summary["audit"]["stride"], args.repeat
        audited = [stride * (1 + j * (summary["audit"]["sample"] - 2) // k) for j in range(k)]
        others = [(1 + j * (n - 2) // k) | 1 for j in range(k)]  # odd ids: not audited
        base = "/api/runs/0/citizens"
        rows = {
            "citizen_audited": timed(client, [f"{base}/{c}" for c in audited]),
            "citizen_not_audited": timed(client, [f"{base}/{c}" for c in others if c % stride]),
            "search_by_id": timed(client, [f"{base}?id={c}" for c in others]),
            "search_page": timed(client, [f"{base}?page={j * 997}&size=100" for j in range(k)]),
            "search_listed": timed(client, [f"{base}?listed=true&page={j}" for j in range(k)]),
            "search_audited": timed(client, [f"{base}?audited=true&page={j}" for j in range(k)]),
        }
    row = {
        "bench": "explorer",
        "scsim_version": scsim.__version__,
        "n": n,
        "days": summary["days"],
        "audit_sample": summary["audit"]["sample"],
        "repeat": k,
        **rows,
        "machine": {"cpu": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
