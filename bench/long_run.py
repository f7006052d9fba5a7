"""Every preset for ten simulated years: is it steady, and how much does it list?

    python bench/long_run.py                      # every preset, 100 000 citizens, 3 650 days
    python bench/long_run.py --n 50000 --years 10 fico sesame
    python bench/long_run.py --json runs/long.jsonl

Each preset runs in its own process (numba's kernel for each set of modules is compiled or
loaded once there). Prints, per preset, the share of citizens listed and the mean score in
years 1, 2, 5 and 10 (each averaged over the year's days), the share banned from travel in year
10, the spread of scores at the end, and the relative change from year 5 to year 10 — the bars
of the credibility issue: |change| < 10 % for the listed share and the mean score, and no more
than 5 % listed in year 10 (except a list whose rule is "never removed").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import yaml

CHILD = """
import json, sys, time
from scsim.engine import Sim
from scsim.scenario import load_scenario
from scsim.steady import yearly
preset, n, days, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sets = json.loads(sys.argv[5])
t0 = time.perf_counter()
sim = Sim(load_scenario(preset, {"population.n": n, "days": days, "seed": seed, **sets})).run()
y = yearly(sim)
print(json.dumps({
    "preset": preset, "set": sets, "n": n, "days": days, "seed": seed,
    "seconds": round(time.perf_counter() - t0, 1),
    "listed": [round(float(v), 5) for v in y.listed_share],
    "banned": [round(float(v), 5) for v in y.banned_share],
    "mean": [round(float(v), 2) for v in y.mean_score],
    "sd": [round(float(v), 2) for v in y.sd_score],
    "listed_change": y.change("listed_share") if y.years >= 10 else None,
    "mean_change": y.change("mean_score") if y.years >= 10 else None,
}))
"""


def main() -> None:
    from scsim.scenario import preset_names

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("presets", nargs="*", help="presets to run (default: all)")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="append one JSON row per preset to this file")
    ap.add_argument(
        "--set", action="append", default=[], metavar="PATH=VALUE",
        help="override a scenario field (YAML value), e.g. modules.scoring.half_life=730",
    )  # fmt: skip
    args = ap.parse_args()
    sets = {}
    for item in args.set:
        path, _, value = item.partition("=")
        sets[path] = yaml.safe_load(value)
    names = args.presets or preset_names()
    print(
        f"{'preset':16} {'listed y1':>9} {'y2':>7} {'y5':>7} {'y10':>7} {'Δ5→10':>7}  "
        f"{'banned y10':>10}  {'mean y1':>7} {'y5':>6} {'y10':>6} {'Δ5→10':>7} {'sd y10':>6} "
        f"{'s':>5}",
        flush=True,
    )
    for name in names:
        t0 = time.perf_counter()
        cmd = [sys.executable, "-c", CHILD, name, str(args.n), str(365 * args.years),
               str(args.seed), json.dumps(sets)]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            print(f"{name:16} failed: {res.stderr.strip().splitlines()[-1]}", flush=True)
            continue
        row = json.loads(res.stdout.strip().splitlines()[-1])
        row["wall_s"] = round(time.perf_counter() - t0, 1)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")
        print(line(row), flush=True)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:+.1f}%"


def line(row: dict) -> str:
    li, mean = row["listed"], row["mean"]

    def at(values: list, year: int, fmt: str) -> str:
        return format(values[year - 1], fmt) if len(values) >= year else "-"

    return (
        f"{row['preset']:16} {100 * li[0]:8.2f}% {at([100 * v for v in li], 2, '6.2f')}% "
        f"{at([100 * v for v in li], 5, '6.2f')}% {at([100 * v for v in li], 10, '6.2f')}% "
        f"{_pct(row['listed_change']):>7}  {100 * row['banned'][-1]:9.2f}%  "
        f"{mean[0]:7.1f} {at(mean, 5, '6.1f')} {at(mean, 10, '6.1f')} "
        f"{_pct(row['mean_change']):>7} {row['sd'][-1]:6.1f} {row['seconds']:5.0f}"
    )


if __name__ == "__main__":
    main()
