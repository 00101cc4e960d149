import copy
from importlib import resources

import pytest
import yaml

from scalepredict.catalogue import CatalogueError, catalogue_dict, parse_catalogue


def _raw() -> dict:
    return yaml.safe_load(
        resources.files("scalepredict.catalogue").joinpath("catalogue.yaml").read_text()
    )


def test_five_dimensions_of_four_factors(cat):
    assert cat.dimension_names == [
        "strategy",
        "data",
        "people_organization",
        "process",
        "technology",
    ]
    assert len(cat.factors) == 20
    for d in cat.dimension_names:
        assert len(cat.factors_of(d)) == 4


def test_every_factor_has_a_full_rubric_and_actionable_mitigations(cat):
    for f in cat.factors:
        assert sorted(f.rubric) == [1, 2, 3, 4, 5]
        assert len(set(f.rubric.values())) == 5, f"{f.name}: rubric levels must differ"
        assert len(f.mitigations) >= 2
        for m in f.mitigations:
            assert m.theme in {"proof_of_value", "data_as_asset", "commitment_at_all_levels"}
            assert m.effort in {"low", "medium", "high"}
            assert 1 <= m.months <= 36
    themes = {m.theme for f in cat.factors for m in f.mitigations}
    assert themes == set(cat.themes)


def test_identifiers_are_never_features(cat):
    assert "initiative_id" not in cat.feature_context
    assert "city" not in cat.feature_context
    assert cat.id_column == "initiative_id"
    assert "stage" in cat.feature_context


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda r: r["factors"][0]["rubric"].pop(3), "every level"),
        (lambda r: r["factors"][0].update(dimension="budget"), "unknown dimension"),
        (lambda r: r["factors"][0]["mitigations"][0].update(theme="hope"), "unknown theme"),
        (lambda r: r["factors"][0].update(direction=2), r"factors\[0\] \(value_case\)|direction"),
        (lambda r: r["context"][3].update(direction=1), "monotone direction needs a number"),
        (lambda r: r["factors"][1].update(column="value_case"), "mapped twice"),
        (lambda r: r["outcome"].update(values=[0, 1, 2]), "2 is not mapped"),
        (
            lambda r: r["factors"][0].update(
                scale={"min": 1, "max": 5, "labels": {1: "A", 2: "a"}}
            ),
            "label is used twice",
        ),
        (lambda r: r["dimensions"].append({"name": "extra"}), "needs at least one factor"),
        (lambda r: r["dimensions"].append(dict(r["dimensions"][0])), "listed twice"),
        (lambda r: r["dimensions"][0].update(name="context"), "not 'context'"),
        (lambda r: r["dimensions"][0].update(name="a<b"), "no \\[, \\] or <"),
        (lambda r: r["factors"][0].update(name="mean_data"), "derived model feature"),
        (lambda r: r["context"][5].update(name="weakest_dimension"), "derived model feature"),
        (
            lambda r: r["factors"][0].update(scale={"min": 1, "max": 5, "labels": {1: "2"}}),
            "a number must be its level",
        ),
        (lambda r: r["context"][3].update(nullable=True), "cannot be nullable"),
        (lambda r: r["factors"][0].update(actionable=False), "no team can act on has no actions"),
    ],
)
def test_inconsistent_catalogue_is_refused(breakage, message):
    raw = copy.deepcopy(_raw())
    breakage(raw)
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(raw)


def test_actionable_is_stored_only_where_false(cat):
    """Catalogues written before the field keep their fingerprint (and their models load)."""
    assert all("actionable" not in f for f in cat.source["factors"])
    assert all(f.actionable and f.movable for f in cat.factors)
    raw = copy.deepcopy(_raw())
    raw["factors"][0].update(actionable=False, mitigations=[])
    frozen = parse_catalogue(raw)
    assert frozen.source["factors"][0]["actionable"] is False
    assert not frozen.factors[0].movable and frozen.factors[0].direction == 1
    assert frozen.fingerprint != cat.fingerprint
    listed = catalogue_dict(frozen)["dimensions"][0]["factors"][0]
    assert listed["name"] == "value_case" and listed["actionable"] is False


def test_json_view_lists_every_factor_once(cat):
    view = catalogue_dict(cat)
    names = [f["name"] for d in view["dimensions"] for f in d["factors"]]
    assert names == cat.factor_names


def test_worked_examples_pass_the_schema_and_the_api_model(cat):
    import pandas as pd

    from scalepredict.api.requests import request_models
    from scalepredict.data.validation import parse_assessments

    Proposal = request_models(cat, 1000).Proposal

    assert len(cat.examples) >= 2
    for example in cat.examples:
        assert set(example.proposal) == set(cat.assessment_columns()), example.title
        Proposal.model_validate(example.proposal)  # what the page sends to the API
    frame = parse_assessments(pd.DataFrame([e.proposal for e in cat.examples]), cat, "examples")
    assert frame["initiative_id"].is_unique
    assert catalogue_dict(cat)["examples"][0]["proposal"] == cat.examples[0].proposal
