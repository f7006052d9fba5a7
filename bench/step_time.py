"""Build, compile and step time of one run, with the audit sample as given: for old-against-new
comparisons of the fused kernel (run each version with ``PYTHONPATH=<its src>``, alternating).

    .venv/bin/python bench/step_time.py china-2020 --n 20000 --days 1000 --threads 1 --audit 0

Prints one JSON line: preset, n, days, threads, audit, build_s, jit_s, step_s, agent-steps/s.
``scsim bench`` runs a preset with its own audit sample; this script sets it (0: none), so the
kernel's pass can be timed with and without the sample's writes.
"""

from __future__ import annotations

import argparse
import json
import time

import numba

from scsim.engine import Sim
from scsim.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("preset", help="preset name or scenario YAML")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--audit", type=int, default=0, help="output.audit_sample (0: none)")
    args = ap.parse_args()
    numba.set_num_threads(args.threads)
    overrides = {"population.n": args.n, "days": args.days, "output.audit_sample": args.audit}
    t0 = time.perf_counter()
    sim = Sim(load_scenario(args.preset, overrides)).build()
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run()
    step = time.perf_counter() - t0
    print(json.dumps({
        "preset": args.preset, "n": args.n, "days": args.days, "threads": args.threads,
        "audit": args.audit, "build_s": round(built - sim.timings["jit_s"], 3),
        "jit_s": round(sim.timings["jit_s"], 3), "step_s": round(step, 3),
        "agent_steps_per_s": round(args.n * args.days / step),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
