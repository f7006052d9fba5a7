"""Where the fused kernel spends its time, instruction by instruction (Linux ``perf``).

numba's JIT code has no symbols, so ``perf report`` shows bare addresses. This script runs a
scenario in a child process under ``perf record``; the child dumps its anonymous executable
mappings (the JIT code) when the run ends. The samples are then mapped onto ``objdump``'s
disassembly of the mapping that holds most of them (the fused kernel), and the hottest
instructions are printed with their neighbourhood. A sample usually lands on the instruction
*after* the one that stalled (skid). Session 5 used this to find per-agent streams missing the
cache and the neighbour loop's instruction count (bench/README.md).

    .venv/bin/python bench/profile_kernel.py --preset all-modules --n 1000000 --days 60
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import ctypes, json, sys
import numba
from scsim.engine import Sim
from scsim.scenario import load_scenario
numba.set_num_threads({threads})
sim = Sim(load_scenario({preset!r}, {{"population.n": {n}, "days": {days}}})).run()
maps = []
for line in open("/proc/self/maps"):
    fields = line.split()
    if "x" in fields[1] and len(fields) == 5:  # executable and anonymous: JIT code
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        path = f"{out}/code_{{lo:x}}.bin"
        with open(path, "wb") as f:
            f.write(ctypes.string_at(lo, hi - lo))
        maps.append((lo, hi, path))
json.dump(maps, open("{out}/maps.json", "w"))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="all-modules", help="preset name or scenario YAML")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top", type=int, default=12, help="hottest instructions to show")
    ap.add_argument("--out", type=Path, help="keep the dumps and the annotated listing here")
    args = ap.parse_args()
    for tool, package in (("perf", "linux-perf"), ("objdump", "binutils")):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (Debian: apt install {package})")
    out = args.out or Path(tempfile.mkdtemp(prefix="scsim-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    child = CHILD.format(
        threads=args.threads, preset=args.preset, n=args.n, days=args.days, out=out
    )
    data = out / "perf.data"
    subprocess.run(
        ["perf", "record", "-q", "-F", "2999", "-o", str(data), sys.executable, "-c", child],
        check=True,
    )
    script = subprocess.run(
        ["perf", "script", "-i", str(data), "-F", "ip"], capture_output=True, text=True
    )
    samples = collections.Counter(int(x, 16) for x in script.stdout.split())
    maps = json.loads((out / "maps.json").read_text())

    def inside(lo: int, hi: int) -> int:
        return sum(c for ip, c in samples.items() if lo <= ip < hi)

    lo, hi, code = max(maps, key=lambda m: inside(m[0], m[1]))
    total, kernel = sum(samples.values()), inside(lo, hi)
    print(f"{kernel} of {total} samples ({kernel / total:.0%}) in the JIT mapping at {lo:#x}")
    listing = subprocess.run(
        ["objdump", "-D", "-b", "binary", "-mi386:x86-64", f"--adjust-vma={lo:#x}", code],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    rows = []  # (address, samples, text) of each instruction
    for line in listing:
        head, _, rest = line.partition(":")
        try:
            address = int(head.strip(), 16)
        except ValueError:
            continue
        text = rest.split("\t")[-1].strip()
        if text:
            rows.append((address, samples.get(address, 0), text))
    (out / "annotated.txt").write_text("\n".join(f"{c:7d}  {a:#x}  {t}" for a, c, t in rows) + "\n")
    where = {a: k for k, (a, _, _) in enumerate(rows)}
    for address, count in samples.most_common():
        if not args.top:
            break
        if address not in where:
            continue
        args.top -= 1
        k = where[address]
        print(f"\n{count} samples ({count / kernel:.1%} of the kernel) at {address:#x}:")
        for a, c, t in rows[max(k - 6, 0) : k + 3]:
            print(f"{c:7d}  {a:#x}  {t}{'   <--' if a == address else ''}")
    print(f"\nannotated listing: {out / 'annotated.txt'}")


if __name__ == "__main__":
    main()
