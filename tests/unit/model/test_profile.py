"""The reference profile travels in the bundle; bundles trained before profiles still load."""

from __future__ import annotations

import json

import numpy as np

from scalepredict.model.bundle import META_FILE, ModelBundle
from scalepredict.model.profile import OVERALL, reference_profile


def test_profile_is_saved_and_loaded_with_the_bundle(small_fit, tmp_path):
    bundle = small_fit[1].bundle
    profile = bundle.meta["profile"]
    fields = profile["fields"]
    assert {
        "stage",
        "city_resources",
        "value_case",
        "dimension:data",
        "unknown:data",
        OVERALL,
    } <= set(fields)
    assert fields["stage"]["kind"] == "categories" and fields["value_case"]["kind"] == "levels"
    assert profile["rows"] == len(small_fit[0]) and profile["clustered_by"] == "city"
    loaded = ModelBundle.load(bundle.save(tmp_path / "b"))
    assert loaded.meta["profile"] == json.loads(json.dumps(profile))
    assert "initiative_id" not in json.dumps(profile)  # summaries, never the rows


def test_a_bundle_without_profile_still_loads(small_fit, tmp_path):
    d = small_fit[1].bundle.save(tmp_path / "old")
    meta = json.loads((d / META_FILE).read_text())
    del meta["profile"]
    (d / META_FILE).write_text(json.dumps(meta))
    assert "profile" not in ModelBundle.load(d).meta


def test_counts_match_the_data(cat, small_frame):
    fields = reference_profile(small_frame, cat)["fields"]
    vc = small_frame["value_case"].dropna()
    assert dict(
        zip(fields["value_case"]["values"], fields["value_case"]["counts"], strict=True)
    ) == {float(k): int(v) for k, v in vc.value_counts().items()}
    assert np.isclose(fields["value_case"]["mean"], vc.astype(float).mean())
