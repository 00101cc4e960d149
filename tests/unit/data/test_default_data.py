"""The committed default data set is exactly the generator's output and documented."""

import pandas as pd

from scalepredict.data.synthetic import DEFAULT_ROWS, DEFAULT_SEED, generate
from scalepredict.data.validation import validate_file
from tests.conftest import ROOT, file_limits

DATA = ROOT / "data" / "initiatives.csv"


def test_committed_file_equals_generator_output():
    committed = validate_file(DATA, limits=file_limits())
    assert committed.valid
    expected = generate(DEFAULT_ROWS, DEFAULT_SEED, truth=True)
    got = committed.frame
    pd.testing.assert_frame_equal(
        got.drop(columns="true_probability"),
        expected.drop(columns="true_probability"),
        check_dtype=False,
    )
    pd.testing.assert_series_equal(got["true_probability"], expected["true_probability"], atol=1e-6)


def test_datasheet_exists_and_names_every_column(cat):
    sheet = (ROOT / "data" / "README.md").read_text()
    for col in [*cat.labelled_columns(), "true_probability"]:
        assert f"`{col}`" in sheet, col
