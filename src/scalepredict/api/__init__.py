"""The HTTP layer: FastAPI routes over a `ServiceState`, the guard (auth, limits, readiness),
request and response models, the error body, and the planner page's static files."""
