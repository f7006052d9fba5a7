"""What one module costs: a preset with the module against the same preset without it, run
alternately in fresh processes (``scsim bench``), so both see the same machine.

    .venv/bin/python bench/module_cost.py all-modules bookings --n 1000000 --days 365 --rounds 5

Prints one JSON line per run and a summary line: median agent-steps/s of each variant, each
round's ratio (with / without, run back to back), their median and the cost (1 - ratio). The
variant without the module is the preset with ``modules.<module>`` removed; nothing else
changes (sanction tiers a module reads stay).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from scsim.scenario import load_raw


def bench(scenario: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, "-m", "scsim", "bench", scenario, "--n", str(args.n), "--days",
           str(args.days), "--seed", "1", "--threads", str(args.threads)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("module")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raw = load_raw(args.preset)
    if args.module not in raw.get("modules", {}):
        sys.exit(f"error: {args.preset} has no modules.{args.module}")
    raw["modules"].pop(args.module)
    raw["name"] = f"{args.preset}-without-{args.module}"
    without = Path(tempfile.mkdtemp(prefix="scsim-bench-")) / f"{raw['name']}.yaml"
    without.write_text(yaml.safe_dump(raw, sort_keys=False))
    rates: dict[str, list[float]] = {"with": [], "without": []}
    bench(args.preset, args), bench(str(without), args)  # compile both kernels first
    for _ in range(args.rounds):
        for variant, scenario in (("with", args.preset), ("without", str(without))):
            row = bench(scenario, args)
            rates[variant].append(row["agent_steps_per_s"])
            print(json.dumps({"variant": variant, **row}), flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    # each round's with/without ratio: a pair runs back to back, so a drift of the machine's
    # speed between rounds moves both sides of it
    pairs = [w / o for w, o in zip(rates["with"], rates["without"], strict=True)]
    ratio = statistics.median(pairs)
    print(json.dumps({
        "preset": args.preset, "module": args.module, "n": args.n, "days": args.days,
        "threads": args.threads, "rounds": args.rounds,
        "median_with": med["with"], "median_without": med["without"],
        "min_max_with": [min(rates["with"]), max(rates["with"])],
        "min_max_without": [min(rates["without"]), max(rates["without"])],
        "pair_ratios": [round(r, 3) for r in pairs],
        "ratio": round(ratio, 3), "cost": round(1 - ratio, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
