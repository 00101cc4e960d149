"""The model bundle: the catalogue it was trained with, the model of the family the data chose
(`families.py`: per-stage XGBoost boosters, a monotone logistic regression, the checklist
score or an explainable boosting machine's shape functions), the probability calibrator and
the conformal threshold, saved as plain JSON files (no pickles, no code: a bundle loads in any
process, and a corrupt one fails loudly at load time rather than at the first request)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.special import expit

from scalepredict.catalogue import Catalogue, CatalogueError, parse_catalogue
from scalepredict.model.calibration import Calibrator, Conformal
from scalepredict.model.compiled_trees import CompiledForest
from scalepredict.model.families import Family, family_from_json
from scalepredict.model.features import feature_fingerprint, feature_matrix, feature_names
from scalepredict.model.trees import TreeModel, TreeModelError, stage_codes
from scalepredict.model.unknowns import Scored, score

BOOSTER_FILE = "booster.json"  # the tree family: {stage: XGBoost JSON model}
MODEL_FILE = "model.json"  # any other family: its parameters
META_FILE = "bundle.json"
CATALOGUE_FILE = "catalogue.json"  # the catalogue the bundle was trained with, as written


class BundleError(ValueError):
    """A bundle that cannot be used: missing files, corrupt, or built for another catalogue."""


@dataclass
class ModelBundle:
    catalogue: Catalogue  # the framework it was trained with: it scores only that
    model: Family | dict[str, xgb.Booster]  # a family; a dict of boosters is the tree family
    calibrator: Calibrator
    conformal: Conformal
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = TreeModel(self.model)
        if isinstance(self.model, TreeModel):
            try:
                self.model.check(self.catalogue)
            except TreeModelError as e:
                raise BundleError(str(e)) from None

    @property
    def family(self) -> Family:
        assert not isinstance(self.model, dict)  # made a TreeModel at construction
        return self.model

    @property
    def kind(self) -> str:
        """The model family serving: `xgboost`, `ebm`, `logistic` or `checklist`."""
        return self.family.kind

    @property
    def boosters(self) -> dict[str, xgb.Booster]:
        """The tree family's boosters (empty for another family)."""
        return self.model.boosters if isinstance(self.model, TreeModel) else {}

    @property
    def forest(self) -> CompiledForest | None:
        """The tree family's compiled evaluator (None for other families, or where the
        boosters did not compile faithfully)."""
        return self.model.forest if isinstance(self.model, TreeModel) else None

    # --- prediction ---------------------------------------------------------------------
    def learned_margin_of(self, x: np.ndarray) -> np.ndarray:
        """Log-odds from a feature matrix (`features.feature_matrix`), blanks read as the model
        learned them."""
        if not isinstance(self.model, TreeModel):  # the trees route by stage themselves
            stage_codes(x, self.catalogue)  # every family refuses a row without a stage alike
        return self.family.learned_margin_of(x, self.catalogue)

    def booster_of_rows(self, x: np.ndarray) -> np.ndarray:
        """Per row of a feature matrix, the number of its stage (catalogue order)."""
        return stage_codes(x, self.catalogue)

    def feature_contributions(self, x: np.ndarray) -> np.ndarray:
        """Exact contributions per model feature (`features.feature_names`), base last."""
        stage_codes(x, self.catalogue)
        return self.family.contributions_of(x, self.catalogue)

    def scored(self, x: np.ndarray) -> Scored:
        """Log-odds under the catalogue's unknown-answer policy, with the feature matrix each
        row was scored as and which rows the policy capped (`unknowns.py`)."""
        return score(x, self.catalogue, self.learned_margin_of)

    def margin_of(self, x: np.ndarray) -> np.ndarray:
        """Log-odds from a feature matrix under the unknown-answer policy: what every score,
        explanation and plan uses."""
        return self.scored(x).margin

    def probability_of(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probability from a feature matrix (hot loops: plans, what-ifs)."""
        return self.calibrator(expit(self.margin_of(x)))

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        return self.margin_of(feature_matrix(frame, self.catalogue))

    def raw_probability(self, frame: pd.DataFrame) -> np.ndarray:
        return expit(self.margin(frame))

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of scaling up, one per row of a typed assessment frame."""
        return self.probability_of(feature_matrix(frame, self.catalogue))

    def with_policy(self, policy: str) -> ModelBundle:
        """The same model under another unknown-answer policy (`unknowns.POLICIES`); the
        calibrator is kept, so refit it where the comparison needs it (`fit.calibrate`)."""
        source = {**self.catalogue.source, "unknown_policy": policy}
        cat = parse_catalogue(source, self.catalogue.name)
        return ModelBundle(cat, self.family, self.calibrator, self.conformal, dict(self.meta))

    # --- persistence --------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        model_file = BOOSTER_FILE if self.kind == TreeModel.kind else MODEL_FILE
        (d / model_file).write_text(json.dumps(self.family.to_json()))
        (d / CATALOGUE_FILE).write_text(json.dumps(self.catalogue.source, indent=1))
        meta = {
            "catalogue": self.catalogue.name,
            "catalogue_fingerprint": self.catalogue.fingerprint,
            "feature_fingerprint": feature_fingerprint(self.catalogue),
            "features": feature_names(self.catalogue),
            "stages": list(self.catalogue.booster_keys),
            "family": self.kind,
            "calibrator": asdict(self.calibrator),
            "conformal": asdict(self.conformal),
            **self.meta,
        }
        (d / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        return d

    @classmethod
    def load(cls, directory: str | Path) -> ModelBundle:
        d = Path(directory)
        try:
            meta = json.loads((d / META_FILE).read_text())
            kind = meta.get("family", TreeModel.kind)  # bundles before families: trees
            model_file = BOOSTER_FILE if kind == TreeModel.kind else MODEL_FILE
            data = json.loads((d / model_file).read_text())
        except (OSError, ValueError, AttributeError) as e:
            raise BundleError(f"{d}: not a loadable model bundle ({type(e).__name__}: {e})") from e
        try:
            catalogue = parse_catalogue(json.loads((d / CATALOGUE_FILE).read_text()), str(d))
        except OSError:
            raise BundleError(
                f"{d}: no {CATALOGUE_FILE} (a bundle from an older version?); retrain it"
            ) from None
        except (ValueError, CatalogueError) as e:
            raise BundleError(f"{d}: its catalogue cannot be read ({e})") from e
        if meta.get("catalogue_fingerprint") != catalogue.fingerprint:
            raise BundleError(f"{d}: {CATALOGUE_FILE} does not match the bundle's fingerprint")
        try:
            model = family_from_json(kind, data, catalogue)
        except TreeModelError as e:
            raise BundleError(f"{d}: {BOOSTER_FILE}: {e}") from e
        except (KeyError, TypeError, ValueError) as e:
            raise BundleError(f"{d}: {model_file} is malformed ({type(e).__name__}: {e})") from e
        meta.pop("family", None)
        try:
            calibrator = Calibrator(**meta.pop("calibrator"))
            conformal = Conformal(**meta.pop("conformal"))
        except (KeyError, TypeError) as e:
            raise BundleError(f"{d}: {META_FILE} is incomplete or malformed ({e})") from e
        return cls(catalogue, model, calibrator, conformal, meta)
