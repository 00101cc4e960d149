"""MLflow "models from code" entry point: MLflow runs this file to build the pyfunc model, so
nothing is pickled. Logged by `pipeline.train_and_register`."""

from mlflow.models import set_model

from scalepredict.tracking.pyfunc import ScalePredictModel

set_model(ScalePredictModel())
