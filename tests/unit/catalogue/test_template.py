from scalepredict.cli import app
from scalepredict.data.tables import DataFileError
from scalepredict.data.validation import validate_file
from tests.conftest import file_limits


def test_template_has_header_and_full_rubric(tmp_path, runner, cat):
    res = runner.invoke(app, ["template", "--out", str(tmp_path / "t")])
    assert res.exit_code == 0, res.output
    header = (tmp_path / "t" / "assessments.csv").read_text().strip().split(",")
    assert header == cat.labelled_columns()
    rubric = (tmp_path / "t" / "rubric.md").read_text()
    for f in cat.factors:
        assert f"`{f.name}`" in rubric
        for text in f.rubric.values():
            assert text in rubric


def test_filled_template_row_validates(tmp_path, runner, small_frame):
    runner.invoke(app, ["template", "--out", str(tmp_path)])
    path = tmp_path / "assessments.csv"
    row = small_frame.drop(columns="true_probability").head(1)
    row.to_csv(path, mode="a", header=False, index=False, date_format="%Y-%m-%d")
    assert validate_file(path, limits=file_limits()).valid


def test_empty_template_is_not_data(tmp_path, runner):
    runner.invoke(app, ["template", "--out", str(tmp_path)])
    try:
        validate_file(tmp_path / "assessments.csv", limits=file_limits())
    except DataFileError as e:
        assert "no data rows" in str(e)
    else:
        raise AssertionError("an empty template must not validate as data")
