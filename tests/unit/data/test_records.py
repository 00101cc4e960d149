"""JSON records and their CSV are one contract: the same cells accepted (the same typed
frame) and the same cells refused (the same problems), whatever the cells."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalepredict.catalogue import load_catalogue
from scalepredict.data.records import validate_proposals, validate_records
from scalepredict.data.tables import read_csv_bytes
from scalepredict.settings import get_settings
from tests.e2e.live_server import proposals_json

CAT = load_catalogue(get_settings())
BASE = proposals_json(3, seed=2)
# cells a JSON body and a CSV can both carry; JSON's own kinds (true, NaN) written as JSON
CELLS = st.one_of(
    st.integers(-2, 8),
    st.integers(-2, 8).map(float),  # 3.0
    st.sampled_from([2.5, float("nan"), float("inf"), True, False, "high", None]),
    st.sampled_from(CAT.unknown),
)
EDITS = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["budget_eur", *CAT.factor_names]), CELLS),
    max_size=6,
)


def _as_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: "" if v is None else v if isinstance(v, str) else json.dumps(v)
                for k, v in row.items()
            }
        )
    return out.getvalue().encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=EDITS, history=st.booleans())
def test_json_and_csv_accept_and_refuse_alike(edits, history):
    rows = [dict(r) for r in BASE]
    for i, field, cell in edits:
        rows[i][field] = cell
    if history:
        for row in rows:
            row["scaled_up"] = "yes"  # history: ignored on both paths
    by_json = validate_records(rows, CAT)
    by_csv = validate_proposals(read_csv_bytes(_as_csv(rows), get_settings().max_columns), CAT)
    shifted = by_csv.problems.assign(row=by_csv.problems["row"] - 1)  # CSV: header is row 1
    pd.testing.assert_frame_equal(by_json.problems, shifted, check_dtype=False)
    if by_json.valid:
        pd.testing.assert_frame_equal(by_json.frame, by_csv.frame, check_dtype=False)


def test_what_only_json_can_say_is_refused_per_proposal():
    rows = [dict(r) for r in BASE]
    rows[0]["city_resources"] = "3"  # text where a number belongs
    rows[1]["valeu_case"] = 3  # not a field
    rows[2]["assessed_on"] = 1_600_000_000_000  # epoch milliseconds, not a date
    problems = validate_records([*rows, 7], CAT).problems
    assert list(zip(problems["row"], problems["column"], strict=True)) == [
        (1, "city_resources"),
        (2, "valeu_case"),
        (3, "assessed_on"),
        (4, ""),
    ]
    assert problems["rule"].iloc[1].startswith("a field of the catalogue")
