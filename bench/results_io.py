"""Cost of writing results (issue 6): a year of N citizens with the audit sample on.

Runs a preset in process, then writes its run directory (parquet files, manifest, report) and
prints one JSON line: step seconds, write seconds (parquet only, and all of ``write_run``
including the HTML report), their ratio, bytes on disk per file and in total, peak RSS.

    .venv/bin/python bench/results_io.py                      # sc-core, 1 M, 365 days
    .venv/bin/python bench/results_io.py --preset all-modules --n 1000000 --days 365
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="sc-core")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--audit-sample", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import numba

    from scsim.engine import Sim
    from scsim.results import write_run
    from scsim.scenario import load_scenario

    numba.set_num_threads(args.threads)
    overrides = {
        "population.n": args.n, "days": args.days, "output.audit_sample": args.audit_sample,
    }  # fmt: skip
    sim = Sim(load_scenario(args.preset, overrides)).build().run()
    out = Path(tempfile.mkdtemp(prefix="scsim-io-")) / "run"
    t0 = time.perf_counter()
    write_run(sim, out, args.preset, args.threads)
    total_write = time.perf_counter() - t0
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}
    row = {
        "bench": "results_io", "preset": args.preset, "n": args.n, "days": args.days,
        "audit_sample": sim.events.size, "threads": args.threads,
        "step_s": round(sim.timings["step_s"], 2),
        "parquet_write_s": round(sim.timings["write_s"], 2),
        "write_run_s": round(total_write, 2),
        "write_share_of_run": round(total_write / sim.timings["step_s"], 4),
        "bytes_total": sum(sizes.values()), "bytes": sizes,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }  # fmt: skip
    print(json.dumps(row))
    shutil.rmtree(out.parent)


if __name__ == "__main__":
    main()
