"""Every environment variable, path and limit of ScalePredict, in one typed object.

Read with `get_settings()` (a fresh read each call, so a changed environment is seen). Relative
defaults resolve against the project root (the checkout holding `pyproject.toml`, else the
working directory), so `scalepredict` finds the same store from any directory; a relative path
given in an environment variable is the user's and is taken as given.
`scalepredict settings` prints the effective values with secrets masked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def project_root() -> Path:
    """The checkout this package runs from (editable install), else the working directory."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """ScalePredict's settings; each field names the environment variable that sets it."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    tracking_uri: str = Field(
        default_factory=lambda: _sqlite_url(project_root() / "mlruns" / "mlflow.db"),
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "SCALEPREDICT_TRACKING_URI"),
        description="MLflow tracking and registry store (MLFLOW_TRACKING_URI).",
    )
    catalogue: Path | None = Field(
        None,
        validation_alias="SCALEPREDICT_CATALOGUE",
        description="Assessment catalogue file (empty: the built-in smart-city framework).",
    )
    model_name: str | None = Field(
        None,
        validation_alias="SCALEPREDICT_MODEL_NAME",
        description="Registered model name (empty: the catalogue's model_name, else scalepredict).",
    )
    experiment: str = Field(
        "scalepredict",
        validation_alias="SCALEPREDICT_EXPERIMENT",
        description="MLflow experiment of training runs.",
    )
    keys_file: Path = Field(
        default_factory=lambda: project_root() / "var" / "api_keys.json",
        validation_alias="SCALEPREDICT_KEYS_FILE",
        description="API key file (names, roles and SHA-256 hashes only).",
    )
    audit_url: str = Field(
        default_factory=lambda: _sqlite_url(project_root() / "var" / "audit.db"),
        validation_alias="SCALEPREDICT_AUDIT_URL",
        description="SQLAlchemy URL of the audit trail.",
    )
    model_cache: Path = Field(
        default_factory=lambda: project_root() / "var" / "model_cache",
        validation_alias="SCALEPREDICT_MODEL_CACHE",
        description="Last-known-good copy of the champion, served when the registry is down.",
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024,
        gt=0,
        validation_alias="SCALEPREDICT_MAX_BODY_BYTES",
        description="Largest request body the API reads (413 above).",
    )
    max_proposals: int = Field(
        1000,
        gt=0,
        validation_alias="SCALEPREDICT_MAX_PROPOSALS",
        description="Most proposals in one /score request or /portfolio CSV (413 above).",
    )
    max_columns: int = Field(
        1000,
        gt=0,
        validation_alias="SCALEPREDICT_MAX_COLUMNS",
        description="Widest CSV header read (a file or an upload); wider is refused at once.",
    )
    max_inflight_proposals: int = Field(
        2000,
        gt=0,
        validation_alias="SCALEPREDICT_MAX_INFLIGHT_PROPOSALS",
        description="Proposals being scored at once (about 50 s of work on 2 cores); a request "
        "that would go over is refused with 503 + Retry-After before any work starts.",
    )
    request_timeout: int = Field(
        60,
        gt=0,
        validation_alias="SCALEPREDICT_REQUEST_TIMEOUT",
        description="Seconds a request may take; an answer later than this is not audited.",
    )
    audit_wait_ms: int = Field(
        1500,
        gt=0,
        validation_alias="SCALEPREDICT_AUDIT_WAIT_MS",
        description="How long a write waits for a locked audit store before answering 503.",
    )
    training_config: Path = Field(
        default_factory=lambda: project_root() / "training" / "default.yaml",
        validation_alias="SCALEPREDICT_TRAINING_CONFIG",
        description="Training configuration used when `train --config` is not given.",
    )
    port: int = Field(
        3000, validation_alias="SCALEPREDICT_PORT", description="Port of `scalepredict serve`."
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

    @model_validator(mode="after")
    def _absolute(self) -> Settings:
        """Relative paths are the user's, from where they ran the command: made absolute now,
        so a server started from the project root reads the same files as the command."""
        for name in ("keys_file", "model_cache", "training_config", "catalogue"):
            value = getattr(self, name)
            if value is not None and not value.is_absolute():
                setattr(self, name, value.resolve())
        for name in ("tracking_uri", "audit_url"):
            setattr(self, name, _absolute_sqlite(getattr(self, name)))
        return self

    def as_environment(self) -> dict[str, str]:
        """Every setting as the environment variable that sets it (for a child process)."""
        sources = self.sources()
        return {
            sources[name]: str(value)
            for name, value in self.model_dump().items()
            if value is not None
        }

    def masked(self) -> dict[str, Any]:
        """Effective values for people: passwords inside URLs replaced by ***."""
        return {name: _mask(str(value)) for name, value in self.model_dump().items()}

    def sources(self) -> dict[str, str]:
        """The environment variable of each setting."""
        out = {}
        for name, info in type(self).model_fields.items():
            alias = info.validation_alias
            out[name] = (
                str(alias.choices[0]) if isinstance(alias, AliasChoices) else str(alias or name)
            )
        return out


def _absolute_sqlite(url: str) -> str:
    """`sqlite:///relative.db` -> `sqlite:////abs/relative.db` (four slashes: absolute)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
    return url


def _mask(value: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", value)


def get_settings() -> Settings:
    return Settings()
