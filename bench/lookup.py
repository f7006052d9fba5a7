"""Look-up and query latency on a 1 M-citizen run (issue 6): prints one JSON line.

    python bench/lookup.py                      # builds /tmp/scsim-bench-lookup/run (1 M, 60 days)
    python bench/lookup.py --run runs/sc1m      # times an existing run directory instead

Times ``scsim.lookup.lookup`` (the function, in process, after one warm-up call) for citizens
in and outside the audit sample, and ``scsim.query.run_query`` for a few typical queries
(connection and views included), as medians over repeated calls; then peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORK = Path("/tmp/scsim-bench-lookup")
QUERIES = {
    "count_listed": "SELECT count(*) FROM people WHERE listed",
    "mean_score_by_day": "SELECT day, mean_score FROM timeseries ORDER BY day",
    "one_citizens_events": "SELECT * FROM events WHERE citizen = {audited}",
    "score_histogram": "SELECT floor(score / 50) * 50 AS bin, count(*) FROM people GROUP BY bin",
}


def build(n: int, days: int) -> Path:
    out = WORK / "run"
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    cmd = [sys.executable, "-m", "scsim", "run", "sc-core", "--n", str(n), "--days", str(days),
           "--out", str(out)]  # fmt: skip
    print("$ scsim " + " ".join(cmd[3:]), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def times_ms(call, args: list) -> list[float]:
    times = []
    for a in args:
        t0 = time.perf_counter()
        call(a)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def median(times: list[float]) -> float:
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing run directory")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--ids", type=int, default=20, help="citizens timed in each group")
    args = parser.parse_args()

    from scsim.lookup import lookup
    from scsim.query import run_query
    from scsim.runs import open_run

    run = open_run(args.run or build(args.n, args.days))
    stride = run.audit_stride
    spread = [run.n * k // args.ids for k in range(args.ids)]
    audited = [c - c % stride for c in spread]
    others = [c - c % stride + stride // 2 for c in spread] if stride > 1 else []
    assert all(run.audited(c) for c in audited) and not any(run.audited(c) for c in others)
    lookup(run.path, audited[-1])  # warm-up: imports and the file system cache
    inside = times_ms(lambda c: lookup(run.path, c), audited)
    outside = times_ms(lambda c: lookup(run.path, c), others)
    row = {
        "bench": "lookup",
        "n": run.n,
        "days": run.days,
        "audit_sample": run.audit_size,
        "ids_per_group": args.ids,
        "lookup_audited_ms": median(inside),
        "lookup_not_audited_ms": median(outside) if outside else None,
        "lookup_max_ms": round(max(inside + outside), 2),
    }
    for name, sql in QUERIES.items():
        sql = sql.format(audited=audited[1])
        row[f"query_{name}_ms"] = median(times_ms(lambda s: run_query(run.path, s), [sql] * 5))
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    sys.stdout.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
