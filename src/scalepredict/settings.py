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

from pydantic import AliasChoices, Field
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
    training_config: Path = Field(
        default_factory=lambda: project_root() / "training" / "default.yaml",
        validation_alias="SCALEPREDICT_TRAINING_CONFIG",
        description="Training configuration used when `train --config` is not given.",
    )
    port: int = Field(
        3000, validation_alias="SCALEPREDICT_PORT", description="Port of `scalepredict serve`."
    )

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


def _mask(value: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", value)


def get_settings() -> Settings:
    return Settings()
