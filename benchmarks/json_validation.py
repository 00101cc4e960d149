"""Validating a /score request's JSON proposals, in process: the full validation (object frame,
every CSV rule, Pandera) beside the fast path clean proposals take (`data.fast_records`), for 1
and 100 proposals, on the built-in catalogue or any other (`--catalogue`, e.g. the World Bank
IEG one, whose ratings are sent as their words). Both give the same frame; checked each run.

Usage: python benchmarks/json_validation.py [--catalogue FILE] [--repeat 50]"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from scalepredict.catalogue import Catalogue, load_catalogue
from scalepredict.data.fast_records import fast_records
from scalepredict.data.generic import generate_for
from scalepredict.data.records import validate_records_fully
from scalepredict.settings import get_settings


def proposals(cat: Catalogue, n: int, seed: int = 77) -> list[dict[str, Any]]:
    """`n` generated proposals as a client sends them: field names, ISO dates, labels as text."""
    rows = generate_for(cat, n, seed).rename(columns=cat.renames)
    rows = rows.drop(columns=[c for c in cat.history_columns if c in rows])
    for f in cat.context:
        if f.type == "date":
            rows[f.name] = pd.to_datetime(rows[f.name]).dt.strftime("%Y-%m-%d")
    out: list[dict[str, Any]] = json.loads(rows.to_json(orient="records"))
    return out


def per_call_ms(fn: Callable[[], object], repeat: int, runs: int = 1) -> float:
    """Mean time per call of `repeat` calls after one warm-up call (the catalogue's schema and
    plan, a model's compiled code: built once per process); the best of `runs` such runs, the
    least disturbed by other work."""
    fn()
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - t) / repeat * 1000)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalogue", default=None, help="a catalogue file (default: built-in)")
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    cat = load_catalogue(get_settings(), args.catalogue)
    print(f"catalogue {cat.name}: {len(cat.assessment_fields())} fields per proposal")
    for n in (1, 100):
        records = proposals(cat, n)
        fast = fast_records(records, cat)
        full = validate_records_fully(records, cat)
        assert fast is not None, "generated proposals should take the fast path"
        pd.testing.assert_frame_equal(fast.frame, full.frame)
        full_ms = per_call_ms(lambda r=records: validate_records_fully(r, cat), args.repeat)
        fast_ms = per_call_ms(lambda r=records: fast_records(r, cat), args.repeat)
        print(
            f"{n:>3} proposal(s): full validation {full_ms:7.2f} ms; fast path {fast_ms:6.2f} ms "
            f"({full_ms / fast_ms:.0f}x)"
        )


if __name__ == "__main__":
    main()
