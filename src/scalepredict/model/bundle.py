"""The model bundle: the catalogue it was trained with, one XGBoost booster per stage (one for all
rows when the catalogue has no stage), the probability calibrator and the conformal threshold,
saved as plain JSON files (no pickles: a bundle loads in any process, and a corrupt
one fails loudly at load time rather than at the first request).

Each row is scored by the booster of its own stage (the paper: which causes matter depends on
the stage), so a stage's explanations come from a model fitted to that stage (its rows at full
weight, the other stages' rows down-weighted, see `search.train_per_stage`). Every booster sees
the same feature columns. The stage enters through the routing and each stage's base value;
a booster may still split on the stage column to set its own rows apart from the borrowed
ones, and that (small) effect shows as the stage's contribution. Trained on its own stage's
rows only, a booster never splits on the stage, which then contributes exactly 0."""

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
from scalepredict.model.compiled_trees import CompiledForest, compile_forest
from scalepredict.model.features import feature_fingerprint, feature_matrix, feature_names
from scalepredict.model.unknowns import Scored, score

BOOSTER_FILE = "booster.json"  # {stage: XGBoost JSON model}
META_FILE = "bundle.json"
CATALOGUE_FILE = "catalogue.json"  # the catalogue the bundle was trained with, as written


class BundleError(ValueError):
    """A bundle that cannot be used: missing files, corrupt, or built for another catalogue."""


@dataclass
class ModelBundle:
    catalogue: Catalogue  # the framework it was trained with: it scores only that
    boosters: dict[str, xgb.Booster]  # one per stage (or one for all), in catalogue order
    calibrator: Calibrator
    conformal: Conformal
    meta: dict[str, Any] = field(default_factory=dict)
    # the boosters as one compiled evaluator (`compiled_trees`), made at the first prediction;
    # None where they cannot be compiled faithfully
    _forest: CompiledForest | None = field(default=None, init=False, repr=False, compare=False)
    _forest_tried: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = list(self.catalogue.booster_keys)
        if sorted(self.boosters) != sorted(keys):
            raise BundleError(
                f"a bundle needs one booster per stage {keys}, got {list(self.boosters)}"
            )
        self.boosters = {s: self.boosters[s] for s in keys}

    # --- prediction ---------------------------------------------------------------------
    def routes(self, x: np.ndarray) -> list[tuple[str, xgb.Booster, np.ndarray]]:
        """(stage, its booster, the row indices at that stage) for each stage present in the
        feature matrix `x`; every row goes to exactly one booster."""
        codes = self.booster_of_rows(x)
        out = []
        for code, (stage, booster) in enumerate(self.boosters.items()):  # catalogue order
            rows = np.flatnonzero(codes == code)
            if rows.size:
                out.append((stage, booster, rows))
        return out

    def dmatrix(self, x: np.ndarray) -> xgb.DMatrix:
        """A DMatrix from a feature matrix (categorical codes), typed as the boosters were
        trained (all share the catalogue's feature columns)."""
        first = next(iter(self.boosters.values()))
        return xgb.DMatrix(
            x,
            feature_names=first.feature_names,
            feature_types=first.feature_types,
            enable_categorical=True,
        )

    @property
    def forest(self) -> CompiledForest | None:
        """The compiled evaluator of every booster (made once, checked against XGBoost)."""
        if not self._forest_tried:
            self._forest = compile_forest(list(self.boosters.values()))
            self._forest_tried = True
        return self._forest

    def booster_of_rows(self, x: np.ndarray) -> np.ndarray:
        """Per row of a feature matrix, the number of its stage's booster (catalogue order)."""
        stage = self.catalogue.stage
        if stage is None:
            return np.zeros(len(x), np.int64)
        codes = x[:, feature_names(self.catalogue).index(stage)]
        if np.isnan(codes).any():
            raise ValueError(f"rows without a {stage} cannot be scored")
        if ((codes < 0) | (codes >= len(self.boosters))).any():
            raise ValueError(f"a {stage} code outside the catalogue's {len(self.boosters)}")
        return codes.astype(np.int64)

    def learned_margin_of(self, x: np.ndarray) -> np.ndarray:
        """Log-odds from a feature matrix (`features.feature_matrix`), each row by the booster
        of its stage, blanks read as the model learned them: by the compiled trees (the same
        sums without XGBoost's fixed cost per call), or by XGBoost where they did not compile."""
        forest = self.forest
        if forest is not None:
            return forest.margin(x, self.booster_of_rows(x))
        out = np.empty(len(x))
        for _, booster, rows in self.routes(x):
            part = x if rows.size == len(x) else x[rows]
            out[rows] = booster.inplace_predict(part, predict_type="margin")
        return out

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
        return ModelBundle(cat, self.boosters, self.calibrator, self.conformal, dict(self.meta))

    # --- persistence --------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        models = {s: json.loads(b.save_raw("json")) for s, b in self.boosters.items()}
        (d / BOOSTER_FILE).write_text(json.dumps(models))
        (d / CATALOGUE_FILE).write_text(json.dumps(self.catalogue.source, indent=1))
        meta = {
            "catalogue": self.catalogue.name,
            "catalogue_fingerprint": self.catalogue.fingerprint,
            "feature_fingerprint": feature_fingerprint(self.catalogue),
            "features": feature_names(self.catalogue),
            "stages": list(self.boosters),
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
            models = json.loads((d / BOOSTER_FILE).read_text())
        except (OSError, ValueError) as e:
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
        stages = list(catalogue.booster_keys)
        if not isinstance(models, dict) or list(models) != stages:
            found = list(models)[:5] if isinstance(models, dict) else type(models).__name__
            raise BundleError(
                f"{d}: {BOOSTER_FILE} must hold one booster per stage {stages}, found {found} "
                "(a bundle from an older version?); retrain it"
            )
        boosters = {}
        for stage, model in models.items():
            booster = xgb.Booster()
            try:
                booster.load_model(bytearray(json.dumps(model), "utf-8"))
            except xgb.core.XGBoostError as e:
                raise BundleError(f"{d}: the {stage} booster is corrupt ({e})") from e
            if booster.feature_names != feature_names(catalogue):
                raise BundleError(f"{d}: the {stage} booster's features do not match the catalogue")
            boosters[stage] = booster
        try:
            calibrator = Calibrator(**meta.pop("calibrator"))
            conformal = Conformal(**meta.pop("conformal"))
        except (KeyError, TypeError) as e:
            raise BundleError(f"{d}: {META_FILE} is incomplete or malformed ({e})") from e
        return cls(catalogue, boosters, calibrator, conformal, meta)
