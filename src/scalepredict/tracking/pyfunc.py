"""The MLflow pyfunc flavour: a custom PythonModel around our own bundle, so that
`mlflow.pyfunc.load_model("models:/scalepredict@champion").predict(df)` validates a raw
assessment frame (strings for categoricals, empty cells for unknown answers) with the same
schema as the CLI and returns one calibrated probability per row."""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types.schema import AnyType, ColSpec, DataType, Schema

from scalepredict.catalogue import Catalogue
from scalepredict.data.validation import parse_assessments
from scalepredict.inference.predictor import Predictor
from scalepredict.model.bundle import ModelBundle

BUNDLE_ARTIFACT = "bundle"
# MLflow refuses int64 -> double, and a score column is int64 or float64 depending on whether
# a cell is empty: numbers and dates are AnyType here and typed by our own parser, which names
# the row and column of every problem.
_MLFLOW_TYPES: dict[str, Any] = {
    "string": DataType.string,
    "category": DataType.string,
    "date": AnyType(),
    "integer": AnyType(),
    "score": AnyType(),
    "number": AnyType(),
    "boolean": AnyType(),
}


class ScalePredictModel(PythonModel):
    predictor: Predictor

    def load_context(self, context: Any) -> None:
        bundle = ModelBundle.load(context.artifacts[BUNDLE_ARTIFACT])
        self.predictor = Predictor(bundle, {"source": "mlflow"})

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.Series:
        cat = self.predictor.bundle.catalogue  # the model's own catalogue, never a global
        frame = parse_assessments(pd.DataFrame(model_input), cat, source="pyfunc input")
        return pd.Series(self.predictor.probability(frame), name="probability")


def signature(cat: Catalogue) -> ModelSignature:
    inputs = Schema(
        [
            ColSpec(
                _MLFLOW_TYPES[f.type],
                f.name,
                required=not (f.nullable or cat.filled_in(f.name)),
            )
            for f in cat.assessment_fields()
        ]
    )
    outputs = Schema([ColSpec(DataType.double, "probability")])
    return ModelSignature(inputs=inputs, outputs=outputs)


def input_example(frame: pd.DataFrame, cat: Catalogue, rows: int = 3) -> pd.DataFrame:
    """A raw-looking example: the assessment columns as a CSV reader would give them."""
    ex = frame[cat.assessment_columns()].head(rows).copy()
    for f in cat.context:
        if f.type == "date":
            ex[f.name] = pd.to_datetime(ex[f.name]).dt.strftime("%Y-%m-%d")
    for c in ex.columns:
        if str(ex[c].dtype) == "Int64":
            ex[c] = ex[c].astype("float64")
    return ex
