"""MLflow: the registry and its aliases, one tracked training run, the promotion gate, the
champion with its last-known-good cache, and the pyfunc flavour."""
