"""Every environment variable, path and limit of ScalePredict, in one typed object.

Read with `get_settings()` (a fresh read each call, so a changed environment is seen). Relative
defaults resolve against the project root (the checkout holding `pyproject.toml`, else the
working directory), so `scalepredict` finds the same store from any directory; a relative path
given in an environment variable is the user's and is taken as given.
`scalepredict settings` prints the effective values with secrets masked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def project_root() -> Path:
    """The checkout this package runs from (editable install), else the working directory."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


class Settings(BaseSettings):
    """ScalePredict's settings: each field is set by SCALEPREDICT_<FIELD NAME> (the prefix),
    unless it names another variable (MLflow's and OpenMP's own, a former name)."""

    model_config = SettingsConfigDict(
        env_prefix="SCALEPREDICT_", extra="ignore", populate_by_name=True
    )

    tracking_uri: str = Field(
        default_factory=lambda: f"sqlite:///{project_root() / 'mlruns' / 'mlflow.db'}",
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "SCALEPREDICT_TRACKING_URI"),
        description="MLflow tracking and registry store (MLFLOW_TRACKING_URI).",
    )
    catalogue: Path | None = Field(
        None,
        description="Assessment catalogue file (empty: the built-in smart-city framework).",
    )
    model_name: str | None = Field(
        None,
        description="Registered model name (empty: the catalogue's model_name, else scalepredict).",
    )
    experiment: str = Field(
        "scalepredict",
        description="MLflow experiment of training runs.",
    )
    keys_file: Path = Field(
        default_factory=lambda: project_root() / "var" / "api_keys.json",
        description="Former JSON key file: imported once into the database, then no longer read.",
    )
    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{project_root() / 'var' / 'scalepredict.db'}",
        validation_alias=AliasChoices("SCALEPREDICT_DATABASE_URL", "SCALEPREDICT_AUDIT_URL"),
        description="SQLAlchemy URL of the database of API keys, the audit trail and outcomes "
        "(SQLite file, or postgresql+psycopg://...). SCALEPREDICT_AUDIT_URL is its former name.",
    )
    key_cache_seconds: float = Field(
        1.0,
        ge=0,
        le=2,
        description="How long a replica trusts a key lookup (at most 2 s: a key revoked on one "
        "replica is refused by every replica within that); 0 looks every request up.",
    )
    outcome_horizon_months: int = Field(
        24,
        gt=0,
        description="Months after scoring by which an outcome is expected; later without one, "
        "a scoring is `expired` (did not succeed) rather than `pending`.",
    )
    model_cache: Path = Field(
        default_factory=lambda: project_root() / "var" / "model_cache",
        description="Last-known-good copy of the champion, served when the registry is down.",
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024,
        gt=0,
        description="Largest request body the API reads (413 above).",
    )
    max_proposals: int = Field(
        1000,
        gt=0,
        description="Most proposals in one /score request or /portfolio CSV (413 above).",
    )
    max_columns: int = Field(
        1000,
        gt=0,
        description="Widest CSV header read (a file or an upload); wider is refused at once.",
    )
    max_inflight_proposals: int = Field(
        2000,
        gt=0,
        description="Proposals being scored at once (about 50 s of work on 2 cores); a request "
        "that would go over is refused with 503 + Retry-After before any work starts.",
    )
    request_timeout: int = Field(
        60,
        gt=0,
        description="Seconds a request may take; an answer later than this is not audited.",
    )
    audit_wait_ms: int = Field(
        1500,
        gt=0,
        description="How long a write waits for a locked audit store before answering 503.",
    )
    training_config: Path = Field(
        default_factory=lambda: project_root() / "training" / "default.yaml",
        description="Training configuration used when `train --config` is not given.",
    )
    monitor_window: Literal["month", "quarter"] = Field(
        "month",
        description="Time window of the monitor's report: month or quarter.",
    )
    monitor_min_proposals: int = Field(
        100,
        gt=0,
        description="Fewest proposals in a window for the monitor to test it for drift "
        "(fewer: 'too few proposals', no alarm) or to report its performance.",
    )
    monitor_dir: Path = Field(
        default_factory=lambda: project_root() / "var" / "monitor",
        description="Where `scalepredict monitor` writes monitor.html and monitor.json.",
    )
    batch_partition_rows: int = Field(
        20_000,
        gt=0,
        description="Rows per part of a file scored with `--engine dask` (one task each).",
    )
    dask_scheduler: str | None = Field(
        None,
        description="Dask scheduler for `--engine dask` (empty: a LocalCluster on this machine).",
    )
    dask_workers: int | None = Field(
        None,
        gt=0,
        description="Worker processes of that LocalCluster (empty: one per CPU core).",
    )
    port: int = Field(3000, description="Port of `scalepredict serve`.")
    workers: int = Field(
        1,
        gt=0,
        description="Worker processes of the scoring API (each loads the champion and follows "
        "the registry's alias on its own).",
    )
    omp_wait_policy: str = Field(
        "PASSIVE",
        validation_alias="OMP_WAIT_POLICY",
        description="How XGBoost's idle OpenMP threads wait during `train`: PASSIVE sleeps "
        "(spinning threads made a training on a busy 2-core machine several times slower).",
    )
    artifacts_progress_bar: bool = Field(
        False,
        validation_alias="MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR",
        description="MLflow's artifact download bars (off: they flood server and CI logs).",
    )
    registry_retries: int = Field(
        1,
        ge=0,
        validation_alias="MLFLOW_HTTP_REQUEST_MAX_RETRIES",
        description="Retries of a request to an MLflow tracking server (MLflow's own default, "
        "7 with backoff, keeps a service from starting for minutes when the server is down).",
    )
    registry_timeout: int = Field(
        30,
        gt=0,
        validation_alias="MLFLOW_HTTP_REQUEST_TIMEOUT",
        description="Seconds one request to an MLflow tracking server may take.",
    )
    champion_poll_seconds: float = Field(
        30.0,
        ge=0,
        description="How often a service checks the registry's champion alias and loads a new "
        "champion (0: only at start and on an admin reload).",
    )
    replicas: str = Field(
        "",
        description="Base URLs of the service replicas, comma-separated (`scalepredict status`).",
    )
    key_failures_allowed: int = Field(
        20,
        ge=1,
        description="Failed API key attempts one client address may make per window (in each "
        "worker) before its keys that are not valid are answered 429 without a lookup.",
    )
    key_failure_window_seconds: float = Field(
        60.0,
        gt=0,
        description="The window of those failed attempts; Retry-After says when it ends.",
    )
    max_quarantine_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Largest share of a labelled file's rows that `train` (with on_bad_rows: "
        "quarantine) and `retrain` may leave out for problems; above it they refuse.",
    )
    signing_key: SecretStr | None = Field(
        None,
        description="Key that signs each trained bundle (HMAC-SHA256) and that loading checks; "
        "unset: the key file. Never stored in the registry; masked in `scalepredict settings`.",
    )
    signing_key_file: Path = Field(
        default_factory=lambda: project_root() / "var" / "signing.key",
        description="The signing key when SCALEPREDICT_SIGNING_KEY is unset (created 0600 by "
        "the first training if missing).",
    )
    max_unknown_fields: int = Field(
        20,
        gt=0,
        description="Most fields a JSON proposal may carry that are not the catalogue's; one "
        "with more is refused (422) before its fields are read.",
    )
    max_integer_digits: int = Field(
        30,
        gt=0,
        description="Longest integer in a JSON body, in digits (400 above, while parsing).",
    )
    max_catalogue_bytes: int = Field(
        1024 * 1024,
        gt=0,
        description="Largest catalogue file read (refused before reading).",
    )
    max_levels: int = Field(
        101,
        gt=1,
        description="Most levels of one factor's scale in a catalogue.",
    )
    max_factors: int = Field(
        500,
        gt=0,
        description="Most factors in a catalogue (counted before the file is checked).",
    )
    max_parquet_bytes: int = Field(
        2 * 1024**3,
        gt=0,
        description="Largest decoded size of the Parquet data read at once (a file, or a "
        "part of one), from the file's metadata before anything is decoded.",
    )
    max_row_groups: int = Field(
        100_000,
        gt=0,
        description="Most row groups in a Parquet file (each costs metadata and a read).",
    )
    body_timeout: float = Field(
        20.0,
        gt=0,
        description="Seconds a client may take to send a request body (408 after).",
    )
    keep_alive_timeout: int = Field(
        5,
        gt=0,
        description="Seconds an idle keep-alive connection stays open between requests.",
    )
    dask_security: Path | None = Field(
        None,
        description="YAML of `distributed.Security` arguments (tls_ca_file, tls_client_cert, "
        "tls_client_key, require_encryption) for connecting to `dask_scheduler`.",
    )
    monitor_experiment: str = Field(
        "scalepredict-monitor",
        description="MLflow experiment of monitor runs, apart from the training runs.",
    )

    @property
    def replica_urls(self) -> list[str]:
        return [u.strip().rstrip("/") for u in self.replicas.split(",") if u.strip()]

    @model_validator(mode="after")
    def _absolute(self) -> Settings:
        """Relative paths are the user's, from where they ran the command: made absolute now,
        so a server started from the project root reads the same files as the command."""
        paths = ("keys_file", "model_cache", "training_config", "catalogue", "monitor_dir")
        for name in (*paths, "signing_key_file", "dask_security"):
            value = getattr(self, name)
            if value is not None and not value.is_absolute():
                setattr(self, name, value.resolve())
        for name in ("tracking_uri", "database_url"):
            setattr(self, name, _absolute_sqlite(getattr(self, name)))
        return self

    def as_environment(self) -> dict[str, str]:
        """Every setting as the environment variable that sets it (for a child process)."""
        sources = self.sources()
        return {
            sources[name]: value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            for name, value in self.model_dump().items()
            if value is not None
        }

    def masked(self) -> dict[str, Any]:
        """Effective values for people: passwords inside URLs replaced by ***."""
        hide = re.compile(r"(://[^:/@]+:)[^@]+@")
        return {name: hide.sub(r"\1***@", str(value)) for name, value in self.model_dump().items()}

    def sources(self) -> dict[str, str]:
        """The environment variable of each setting."""
        out = {}
        for name, info in type(self).model_fields.items():
            alias = info.validation_alias
            out[name] = (
                str(alias.choices[0])
                if isinstance(alias, AliasChoices)
                else str(alias or f"SCALEPREDICT_{name.upper()}")
            )
        return out


def _absolute_sqlite(url: str) -> str:
    """`sqlite:///relative.db` -> `sqlite:////abs/relative.db` (four slashes: absolute)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
    return url


def get_settings() -> Settings:
    return Settings()
