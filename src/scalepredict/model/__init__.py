"""Pure ML: features and monotone constraints, the typed training config, the city split, the
per-stage search, calibration and conformal sets, baselines, the fit, the bundle, metrics and
report plots. No MLflow, no HTTP."""
