"""Check that two scsim source trees write the same outputs for every preset: each run's
timeseries, people and events compared column by column by name (a change may reorder
columns, never change them), plus the set of columns.

    git worktree add /tmp/old <rev>
    .venv/bin/python bench/same_outputs.py --old /tmp/old/src --n 5000 --days 60
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
FILES = ("timeseries.parquet", "timeseries_region.parquet", "people.parquet", "events.parquet")


def run(src: str | None, preset: str, n: int, days: int, out: Path) -> None:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    cmd = [sys.executable, "-m", "scsim", "run", preset, "--n", str(n), "--days", str(days),
           "--out", str(out)]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if res.returncode != 0:
        sys.exit(f"{preset} ({src or 'this tree'}) failed:\n{res.stderr}")


def differences(a: Path, b: Path) -> list[str]:
    found = []
    for name in FILES:
        if not (a / name).exists() and not (b / name).exists():
            continue
        ta, tb = pq.read_table(a / name), pq.read_table(b / name)
        if set(ta.column_names) != set(tb.column_names):
            found.append(f"{name}: columns {sorted(set(ta.column_names) ^ set(tb.column_names))}")
        for col in sorted(set(ta.column_names) & set(tb.column_names)):
            if not ta.column(col).equals(tb.column(col)):
                found.append(f"{name}: {col}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", required=True, help="the other tree's src directory")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent / "src"))
    from scsim.scenario import preset_names

    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for preset in preset_names():
            a, b = Path(tmp) / f"{preset}-new", Path(tmp) / f"{preset}-old"
            run(None, preset, args.n, args.days, a)
            run(args.old, preset, args.n, args.days, b)
            found = differences(a, b)
            bad += bool(found)
            print(f"{preset:20s} {'same' if not found else 'DIFFERENT: ' + '; '.join(found)}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
