"""Runs every benchmarks/bench_*.py and prints one table: name, figure, unit, budget, verdict.

Each script prints its results as lines `BENCH {"name", "figure", "unit", "budget",
"verdict"}`; anything else it prints is shown above the table as it comes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main(only: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if any(word in s.stem for word in only)]
    rows: list[dict] = []
    failed: list[str] = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, str(script)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
        )
        for line in proc.stdout.splitlines():
            if line.startswith("BENCH "):
                rows.append(json.loads(line[6:]))
            else:
                print("   ", line)
        if proc.returncode != 0:
            failed.append(script.name)
            print(proc.stderr[-3000:])
        print(f"   ({time.monotonic() - started:.1f} s)", flush=True)

    widths = [48, 12, 10, 12, 8]
    header = ["benchmark", "figure", "unit", "budget", "verdict"]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [row["name"], str(row["figure"]), row["unit"], row["budget"], row["verdict"]]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    for name in failed:
        print(f"{name}: FAILED to run")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
