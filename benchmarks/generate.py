"""Rows per second for generate and validate at 100k and 1M rows, and peak memory.

Each case runs in its own process so its peak RSS is its own. The baseline beside `validate`
is a plain `pandas.read_csv` of the same file (the floor any CSV check pays).
Usage: python benchmarks/generate.py [--sizes 100000 1000000]"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _case(kind: str, rows: int, path: str) -> dict[str, float]:
    import pandas as pd

    from scalepredict.data.synthetic import generate
    from scalepredict.data.tables import FileLimits, write_table
    from scalepredict.data.validation import validate_file
    from scalepredict.settings import get_settings

    t = time.perf_counter()
    if kind == "generate":
        generate(rows, seed=1, truth=True)
    elif kind == "generate+write":
        write_table(generate(rows, seed=1, truth=True), path)
    elif kind == "read_csv (baseline)":
        pd.read_csv(path, dtype=str)
    elif kind == "validate":
        assert validate_file(path, limits=FileLimits.of(get_settings())).valid
    seconds = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--case", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(_case(args.case[0], int(args.case[1]), args.case[2])))
        return
    kinds = ["generate", "generate+write", "read_csv (baseline)", "validate"]
    print(
        f"{'rows':>9} {'step':<20} {'seconds':>8} {'rows/s':>11} {'peak MB':>8} {'x baseline':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.sizes:
            path = str(Path(tmp) / f"bench_{rows}.csv")
            results = {}
            for kind in kinds:
                out = subprocess.run(
                    [sys.executable, __file__, "--case", kind, str(rows), path],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                results[kind] = json.loads(out.strip().splitlines()[-1])
            base = results["read_csv (baseline)"]["seconds"]
            for kind, r in results.items():
                ratio = f"{r['seconds'] / base:9.1f}x" if kind == "validate" else ""
                print(
                    f"{rows:>9} {kind:<20} {r['seconds']:8.2f} {rows / r['seconds']:11,.0f} "
                    f"{r['peak_mb']:8.0f} {ratio:>10}"
                )


if __name__ == "__main__":
    main()
