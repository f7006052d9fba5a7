"""The what-if page's answer time (issue 17's bar: a 50 000-citizen, one-year run in under 10 s
once the kernel is compiled): POST /api/whatif to the explorer app in process, the preset as it
is and with one lever moved, timed from request to answer.

    .venv/bin/python bench/whatif.py --preset beijing-2020 --n 50000 --days 365 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from scsim.engine import Sim
from scsim.explorer.app import create_app
from scsim.results import write_run
from scsim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="beijing-2020")
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # the explorer needs one run directory to open; a tiny one
        sim = Sim(load_scenario("sc-core", {"population.n": 500, "days": 5})).run()
        run = write_run(sim, Path(tmp) / "run", "sc-core", threads=1, report=False)
        client = TestClient(create_app([run]), base_url="http://127.0.0.1")
        body = {"preset": args.preset, "n": args.n, "days": args.days, "seed": 1,
                "levers": {"modules.lists.blacklist_below": 560}}  # fmt: skip
        client.post("/api/whatif", json=body).raise_for_status()  # compile, if not cached
        seconds = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            client.post("/api/whatif", json=body).raise_for_status()
            seconds.append(round(time.perf_counter() - t0, 2))
    print(json.dumps({"preset": args.preset, "n": args.n, "days": args.days, "seconds": seconds,
                      "median_s": statistics.median(seconds)}))  # fmt: skip


if __name__ == "__main__":
    main()
