"""One input contract for JSON and CSV, the CSV answer and the OpenAPI document, in process."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from openapi_spec_validator import validate

from scalepredict.settings import get_settings
from tests.e2e.live_server import proposals_json, template_with_blanks

CSV = {"content-type": "text/csv"}
SAME = ["proposal", "initiative_id", "column", "rule", "value"]


def _score(client, h, proposals, **params):
    return client.post("/score", json={"proposals": proposals}, headers=h, params=params)


def _portfolio(client, h, rows: list[dict], **params):
    """The same proposals as a CSV, each cell written as JSON writes it (9, true)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: "" if v is None else json.dumps(v) if isinstance(v, bool) else v
                for k, v in row.items()
            }
        )
    body = out.getvalue().encode()
    return client.post("/portfolio", content=body, headers={**h, **CSV}, params=params)


def test_the_template_read_by_pandas_is_scored_as_json_and_as_csv(service, tmp_path):
    client, keys, _ = service
    path = template_with_blanks(tmp_path, 6)
    frame = pd.read_csv(path)
    assert frame["value_case"].dtype == float  # blanks make pandas write 3.0
    by_json = _score(client, keys["scorer"], json.loads(frame.to_json(orient="records")))
    assert by_json.status_code == 200, by_json.text
    by_csv = client.post("/portfolio", content=path.read_bytes(), headers={**keys["scorer"], **CSV})
    assert by_csv.status_code == 200, by_csv.text
    probabilities = [r["probability"] for r in by_json.json()["results"]]
    assert probabilities == [r["probability"] for r in by_csv.json()["results"]]


def test_tokens_integral_floats_and_history_are_one_contract(service):
    client, keys, _ = service
    h = keys["scorer"]
    rows = proposals_json(4, seed=3)
    for row, token in zip(rows, ["unknown", "NA", "", None], strict=True):
        row["security"] = token
        row["value_case"] = float(row["value_case"])  # 3.0
        row["scaled_up"] = 1  # history: accepted and ignored on both paths
    by_json = _score(client, h, rows, plan="false")
    by_csv = _portfolio(client, h, rows)
    assert by_json.status_code == by_csv.status_code == 200, (by_json.text, by_csv.text)
    blank = [{**r, "security": None, "scaled_up": None} for r in rows]
    baseline = _score(client, h, blank, plan="false").json()["results"]
    for answer in (by_json, by_csv):
        assert [r["probability"] for r in answer.json()["results"]] == [
            r["probability"] for r in baseline
        ]


@pytest.mark.parametrize(
    ("cell", "rule"),
    [
        (2.5, "a whole score 1..5 (or empty)"),
        (9, "a whole score 1..5 (or empty)"),
        (True, "a whole score 1..5 (or empty)"),
        ("high", "a whole score 1..5 (or empty)"),
    ],
)
def test_json_and_csv_refuse_the_same_cells_with_the_same_problems(service, cell, rule):
    client, keys, _ = service
    h = keys["scorer"]
    rows = proposals_json(5, seed=7)
    rows[1]["leadership_commitment"] = cell
    rows[3]["stage"] = "scaling"
    rows[4]["initiative_id"] = rows[0]["initiative_id"]
    by_json, by_csv = _score(client, h, rows), _portfolio(client, h, rows)
    assert by_json.status_code == by_csv.status_code == 422
    json_problems, csv_problems = by_json.json()["problems"], by_csv.json()["problems"]
    assert [{k: p[k] for k in SAME} for p in json_problems] == [
        {k: p[k] for k in SAME} for p in csv_problems
    ]
    ids = [r["initiative_id"] for r in rows]
    assert [(p["proposal"], p["initiative_id"], p["column"]) for p in json_problems] == [
        (1, ids[0], "initiative_id"),
        (2, ids[1], "leadership_commitment"),
        (4, ids[3], "stage"),
        (5, ids[0], "initiative_id"),
    ]
    assert json_problems[1]["rule"] == f"must be {rule}"
    assert json_problems[1]["path"] == "proposals.1.leadership_commitment"
    assert csv_problems[1]["path"] == "row 3.leadership_commitment"  # the header is row 1


def test_json_refuses_nan_infinity_and_text_numbers_naming_the_proposal(service):
    client, keys, _ = service
    rows = proposals_json(3, seed=8)
    rows[0]["budget_eur"] = float("inf")
    rows[1]["data_quality"] = float("nan")
    rows[2]["city_resources"] = "3"
    body = json.dumps({"proposals": rows}, allow_nan=True).encode()
    r = client.post(
        "/score", content=body, headers={**keys["scorer"], "content-type": "application/json"}
    )
    assert r.status_code == 422, r.text
    got = {(p["proposal"], p["column"], p["value"]) for p in r.json()["problems"]}
    assert got == {
        (1, "budget_eur", "Infinity"),
        (2, "data_quality", "NaN"),
        (3, "city_resources", '"3"'),
    }
    assert all(p["initiative_id"] for p in r.json()["problems"])


def test_csv_answer_is_one_flat_row_per_proposal(service):
    client, keys, _ = service
    h = keys["scorer"]
    rows = proposals_json(5, seed=11)
    as_json = _score(client, h, rows).json()
    for answer in (
        _score(client, h, rows, format="csv"),
        client.post("/score", json={"proposals": rows}, headers={**h, "accept": "text/csv"}),
    ):
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        flat = pd.read_csv(io.StringIO(answer.text))
        assert len(flat) == 5 and list(flat["initiative_id"]) == [r["initiative_id"] for r in rows]
        assert list(flat["probability"]) == [r["probability"] for r in as_json["results"]]
        assert {"risk_band", "uncertainty", "driver_1", "driver_1_points", "plan_actions"} <= set(
            flat.columns
        )
        assert any(c.startswith("points_") for c in flat.columns)
        assert answer.headers["x-model-version"] == "7"


def test_explain_and_plan_can_be_switched_off(service):
    client, keys, _ = service
    r = _score(client, keys["scorer"], proposals_json(2), explain="false", plan="false")
    assert r.status_code == 200
    assert all(x["explanation"] is None and x["plan"] is None for x in r.json()["results"])


def test_the_openapi_document_is_valid_and_complete(service):
    client, _, _ = service
    doc = client.get("/docs.json").json()
    validate(doc)
    assert doc["info"]["title"] == "ScalePredict" and doc["info"]["version"] == "0.1.0"
    assert doc["info"]["x-model-version"] == "7"
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in doc["paths"].items():
        for op in item.values():
            protected = path not in ("/livez", "/readyz", "/healthz")
            assert (op.get("security") == [{"bearer": []}]) is protected, path
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")) and path != "/readyz":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
    schemas = doc["components"]["schemas"]
    proposals = schemas["ScoreRequest"]["properties"]["proposals"]
    assert proposals["maxItems"] == get_settings().max_proposals
    assert schemas["Proposal"]["examples"] and schemas["ScoreRequest"]["examples"]
    assert {"401", "413", "422"} <= set(doc["paths"]["/score"]["post"]["responses"])
    for path, item in doc["paths"].items():  # every keyed route: 429 and when to retry
        for op in item.values():
            if "security" in op:
                assert "Retry-After" in op["responses"]["429"]["headers"], path
    # the routes BentoML answers itself are documented too
    assert {"/livez", "/readyz", "/healthz", "/metrics"} <= set(doc["paths"])


def test_what_json_can_carry_and_no_column_can_is_refused_not_a_crash(service):
    client, keys, _ = service
    h = {**keys["scorer"], "content-type": "application/json"}
    body = b'{"proposals": [{"\\ud800": 1, "initiative_id": "\\ud800", "city": "\\ud800"}]}'
    r = client.post("/score", content=body, headers=h)
    assert r.status_code == 422, r.text
    columns = {p["column"] for p in r.json()["problems"]}
    assert {"\\ud800", "initiative_id", "city"} <= columns
