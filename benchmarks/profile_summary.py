"""Where a py-spy profile's time goes: collapsed stacks (`py-spy record --format raw`) ->
the share of samples under each of the functions that matter, and the heaviest leaves.

Usage: python benchmarks/profile_summary.py PROFILE [--under score] [--top 25]"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path


def stacks(path: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            out.append((stack.split(";"), int(count)))
    return out


def name(frame: str) -> str:
    """`func (path/to/module.py:12)` -> `func (module.py)`."""
    m = re.match(r"(.*?) \((?:.*/)?([^/:]+)(?::\d+)?\)$", frame)
    return f"{m.group(1)} ({m.group(2)})" if m else frame


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("profile", type=Path)
    ap.add_argument(
        "--under",
        default="create_app.<locals>.score (app.py)",
        help="only stacks through this frame",
    )
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    everything = stacks(args.profile)
    total = sum(c for _, c in everything)
    chosen = [(s, c) for s, c in everything if any(name(f) == args.under for f in s)]
    n = sum(c for _, c in chosen) or 1
    print(f"{total} samples in all; {n} under {args.under} ({n / max(total, 1):.0%})")
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for s, c in chosen:
        for f in {name(f) for f in s}:
            inclusive[f] += c
        leaves[name(s[-1])] += c
    print(f"\ninclusive share of {args.under}:")
    for f, c in inclusive.most_common(args.top):
        print(f"  {c / n:6.1%}  {f}")
    print("\nheaviest leaves:")
    for f, c in leaves.most_common(15):
        print(f"  {c / n:6.1%}  {f}")


if __name__ == "__main__":
    main()
