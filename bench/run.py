"""Benchmarks: run each configuration in its own process, append one JSON row per run to
bench/results.jsonl, and rebuild the table in bench/README.md from that file.

    python bench/run.py --suite standard      # SC-core: 100 k, 1 M, 10 M (2 threads) + 1 thread
    python bench/run.py --suite big           # SC-core: 100 M agents, 20 days
    python bench/run.py --suite modules       # every citizen-and-state module: 1 M, 365 days
    python bench/run.py --preset sc-core --n 1000000 --days 50 --threads 1
    python bench/run.py --table-only          # just rebuild the README table
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.jsonl"
README = HERE / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

SUITES = {
    "standard": [("sc-core", 100_000, 100, 2), ("sc-core", 1_000_000, 100, 2),
                 ("sc-core", 10_000_000, 100, 2), ("sc-core", 100_000, 100, 1),
                 ("sc-core", 1_000_000, 100, 1), ("sc-core", 10_000_000, 100, 1)],
    "big": [("sc-core", 100_000_000, 20, 2)],
    "modules": [("all-modules", 100_000, 365, 2), ("all-modules", 1_000_000, 365, 2)],
}  # fmt: skip


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        return platform.machine()


def run_one(preset: str, n: int, days: int, threads: int, seed: int) -> dict:
    cmd = [sys.executable, "-m", "scsim", "bench", preset, "--n", str(n), "--days", str(days),
           "--seed", str(seed), "--threads", str(threads)]  # fmt: skip
    print("$ scsim " + " ".join(cmd[3:]), file=sys.stderr, flush=True)
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        sys.exit(f"benchmark failed:\n{res.stderr}")
    row = json.loads(res.stdout.strip().splitlines()[-1])
    row["command"] = "scsim " + " ".join(cmd[3:])
    row["machine"] = {"cpu": cpu_model(), "cpus": os.cpu_count(), "host": platform.node()}
    row["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    with RESULTS.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)
    return row


def table() -> str:
    """Latest row per (model, n, days, threads), as a markdown table."""
    latest: dict[tuple, dict] = {}
    for line in RESULTS.read_text().splitlines() if RESULTS.exists() else []:
        row = json.loads(line)
        latest[(row["model"], row["n"], row["days"], row["threads"])] = row
    head = ("| model | N | days | threads | agent-steps/s | build s | compile s | step s | "
            "peak RSS MB | B/agent (RSS) | B/agent (state) | scsim | date |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n")  # fmt: skip
    lines = []
    for key in sorted(latest, key=lambda k: (k[0], k[1], k[3], k[2])):
        r = latest[key]
        lines.append(
            f"| {r['model']} | {r['n']:,} | {r['days']} | {r['threads']} | "
            f"**{r['agent_steps_per_s'] / 1e6:.1f} M** | {r['build_s']:.2f} | "
            f"{r.get('jit_s', 0):.2f} | "
            f"{r['step_s']:.2f} | {r['peak_rss_mb']:,.0f} | "
            f"{r['peak_rss_mb'] * 2**20 / r['n']:.0f} | {r.get('state_bytes_per_agent', '')} | "
            f"{r['scsim_version']} | {r['date'][:10]} |"
        )
    return head + "\n".join(lines) + "\n"


def update_readme() -> None:
    text = README.read_text()
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    README.write_text(text[:start] + "\n" + table() + text[stop:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--suite", choices=sorted(SUITES))
    parser.add_argument("--preset", default="sc-core")
    parser.add_argument("--n", type=int)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    configs = SUITES[args.suite] if args.suite else []
    if args.n:
        configs = configs + [(args.preset, args.n, args.days, args.threads)]
    if not configs and not args.table_only:
        parser.error("give --suite, --n or --table-only")
    for preset, n, days, threads in configs:
        run_one(preset, n, days, threads, args.seed)
    update_readme()


if __name__ == "__main__":
    main()
