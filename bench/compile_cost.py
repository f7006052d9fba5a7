"""What a cold process spends compiling: build and run presets with every numba cache empty, and
list the numba functions by the seconds their compile took.

numba writes a ``cache=True`` function's machine code beside its source (``__pycache__``), and
scsim its fused kernels to ``$SCSIM_CACHE_DIR``. This script copies ``src`` to a temporary
folder (so the checkout's caches are neither read nor emptied), points the kernel cache at
another, and runs each preset there in a fresh process at a small size:

    .venv/bin/python bench/compile_cost.py china-2020 --src src
    .venv/bin/python bench/compile_cost.py sc-core all-modules --src /tmp/old/src --top 15

A function's time includes the functions it compiles on the way (numba's compile events nest),
so the lines do not add up; ``fused`` is the day kernels' own total and ``wall`` the presets'
build and first days, compile included.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, sys, time
from numba.core import event
listener = event.RecordingListener()
event.register("numba:compile", listener)
import numba
numba.set_num_threads(1)
from scsim.engine import Sim
from scsim.scenario import load_scenario
walls = {}
for name in sys.argv[1:]:
    t = time.perf_counter()
    Sim(load_scenario(name, {"population.n": 3000, "days": 3, "output.audit_sample": 0})).run()
    walls[name] = time.perf_counter() - t
started, times = {}, []
for ts, ev in listener.buffer:
    key = id(ev.data["dispatcher"]), str(ev.data["args"])
    if ev.is_start:
        started[key] = ts
    elif key in started:
        f = ev.data["dispatcher"].py_func
        times.append((ts - started.pop(key), f"{f.__module__}.{f.__name__}"))
print(json.dumps({"walls": walls, "times": times}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("presets", nargs="+")
    ap.add_argument("--src", default="src", help="the package's parent folder (default: src)")
    ap.add_argument("--top", type=int, default=25, help="functions listed (default: 25)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(args.src, src, ignore=shutil.ignore_patterns("__pycache__"))
        env = {**os.environ, "PYTHONPATH": str(src), "SCSIM_CACHE_DIR": str(Path(tmp) / "k")}
        res = subprocess.run(
            [sys.executable, "-c", CHILD, *args.presets], env=env, capture_output=True, text=True
        )
    if res.returncode != 0:
        sys.exit(res.stderr)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    times = sorted(out["times"], reverse=True)
    fused = sum(s for s, name in times if name.startswith("scsim_fused_"))
    for name, wall in out["walls"].items():
        print(f"{name:16s} wall {wall:6.1f} s")
    print(f"fused kernels {fused:.1f} s; compile events {len(times)}")
    for s, name in times[: args.top]:
        print(f"{s:7.2f}  {name}")


if __name__ == "__main__":
    main()
