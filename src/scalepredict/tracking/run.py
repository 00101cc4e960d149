"""One training run end to end: validate -> fit -> compare with the champion on the same test
set -> track everything in MLflow -> register -> alias `champion` or `challenger`.
Also the deliberate override (`promote`) and model evaluation on any labelled data."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

import scalepredict
from scalepredict.catalogue import Catalogue, load_catalogue
from scalepredict.data.quarantine import left_out, refuse_above
from scalepredict.data.row_hashes import pack, row_hashes
from scalepredict.data.tables import FileLimits
from scalepredict.data.validation import ValidationResult, validate_file
from scalepredict.inference.noise import NOISE_META, noise_points
from scalepredict.inference.plan_honesty import HONESTY_META, plan_honesty
from scalepredict.inference.plots import shap_summary_per_stage
from scalepredict.model import signing
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.config import TrainConfig
from scalepredict.model.fit import FitResult, fit, truth_of
from scalepredict.model.metrics import breakdown
from scalepredict.model.reports import calibration_plot, model_report, roc_plot
from scalepredict.model.split import group_label
from scalepredict.settings import Settings
from scalepredict.tracking import evaluation_set, registry
from scalepredict.tracking.evaluation_set import log_dataset
from scalepredict.tracking.gate import TRAINING_ROWS, GateDecision, against_champion, first_model
from scalepredict.tracking.pyfunc import BUNDLE_ARTIFACT, input_example, signature

Progress = Callable[[str, int, int], None]
# the champion's version, metrics, the gate's decision, the champion's bundle and run
Compared = tuple[str | None, dict[str, float] | None, GateDecision, ModelBundle | None, str | None]


class TrainingDataError(ValueError):
    """The training data has invalid rows and the config says refuse."""

    def __init__(self, result: ValidationResult) -> None:
        self.result = result
        n = int(result.bad_mask.sum())
        super().__init__(f"{result.raw.path}: {len(result.problems)} problem(s) in {n} row(s)")


@dataclass
class TrainingRecord:
    model_name: str
    version: str
    alias: str
    decision: GateDecision
    run_id: str
    fit: FitResult
    champion_metrics: dict[str, float] | None
    data_info: dict[str, Any]
    split_note: str = ""  # what the test set holds out, for people


def load_training_data(
    path: str | Path, cfg: TrainConfig, cat: Catalogue, settings: Settings
) -> tuple[pd.DataFrame, ValidationResult]:
    result = validate_file(path, True, cat, limits=FileLimits.of(settings))
    if not result.valid and cfg.on_bad_rows != "quarantine":
        raise TrainingDataError(result)
    refuse_above(left_out(result, cat), settings.max_quarantine_share, path)
    return result.good(), result


def _flat_params(cfg: TrainConfig, fitted: FitResult) -> dict[str, Any]:
    params: dict[str, Any] = {
        "seed": cfg.seed,
        "on_bad_rows": cfg.on_bad_rows,
        "conformal_alpha": cfg.conformal_alpha,
        "calibration": fitted.bundle.calibrator.method,
        "search_trials_run": sum(len(f.trials) for f in fitted.search.values()),
        "family": fitted.bundle.kind,
        "evaluation": fitted.evaluation.method if fitted.evaluation else "holdout",
    }
    if fitted.tuned is not None and "logistic" in cfg.families:
        params["logistic_penalty"] = fitted.tuned.penalty
    for stage, found in fitted.search.items():
        params[f"{stage}_rounds"] = found.rounds
        params.update({f"{stage}_xgb_{k}": v for k, v in found.params.items()})
    params.update({f"split_{k}": v for k, v in cfg.split.model_dump().items()})
    params.update({f"gate_{k}": v for k, v in cfg.gate.model_dump().items()})
    return params


def _requirements() -> list[str]:
    names = ["xgboost", "pandas", "numpy", "scikit-learn", "pandera", "pyyaml", "mlflow", "pyarrow"]
    return [f"{n}=={metadata.version(n)}" for n in names]


def _plots(result: FitResult, out_dir: Path, curves: dict[str, np.ndarray]) -> Path:
    """Calibration and ROC against the other families on the held-out predictions, and the
    SHAP summary per stage on the held-out rows."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ev = result.evaluation
    assert ev is not None
    calibration_plot(ev.y, ev.p, out_dir / "calibration.png")
    roc_plot(ev.y, {"model": ev.p, **curves}, out_dir / "roc.png")
    shap_summary_per_stage(result.bundle, ev.frame, out_dir)
    return out_dir


def _compare_with_champion(
    settings: Settings,
    client: MlflowClient,
    name: str,
    fitted: FitResult,
    learned_from: pd.DataFrame,
    cfg: TrainConfig,
    progress: Progress | None,
) -> Compared:
    """(the champion's version, its metrics on the rows it never learned from, the gate's
    decision, its bundle and its training run). A champion we cannot score must not block a
    new model."""
    ev = fitted.evaluation
    assert ev is not None
    current = registry.version_by_alias(client, registry.CHAMPION, name)
    if current is None:
        return None, None, first_model(ev.chosen), None, None
    try:
        champion = registry.load_bundle(registry.model_uri(registry.CHAMPION, name), settings)
        metrics, decision = against_champion(ev, champion, learned_from, cfg)
    except Exception as e:
        if progress:
            progress(f"champion v{current.version} unusable ({e}); the new model serves", 0, 0)
        return str(current.version), None, first_model(ev.chosen), None, None
    return str(current.version), metrics, decision, champion, current.run_id


def train_and_register(
    settings: Settings,
    data_path: str | Path,
    cfg: TrainConfig,
    config_path: str | Path | None = None,
    progress: Progress | None = None,
    cat: Catalogue | None = None,
) -> TrainingRecord:
    """Train on `data_path` in catalogue `cat` (default: the settings' one) and register the
    model under the catalogue's model name (the config or the settings may override it). The
    MLflow run is open for the whole of it, so its start and end times are the real ones."""
    cat = cat or load_catalogue(settings)
    frame, validation = load_training_data(data_path, cfg, cat, settings)
    limits = FileLimits.of(settings)
    client = registry.connect(settings)
    exp_id = registry.experiment_id(client, cfg.registry.experiment or settings.experiment)
    name = cfg.registry.model_name or registry.model_name(settings, cat)
    data_info = registry.data_fingerprint(data_path, frame, cat)
    data_info["not_rated"] = int(validation.not_rated.sum())
    left = left_out(validation, cat)  # said before the training, and kept in its record
    data_info |= {"file_rows": left.rows, "quarantined": left.quarantined, "left_out": left.lines()}
    for line in left.lines():
        if progress:
            progress(line, 0, 0)
    source = str(Path(data_path).resolve())
    by_time = cfg.split.by == "time"
    kept, latest = (None, 0) if by_time else evaluation_set.load(client, name, cat, limits)
    train_rows, fixed = frame, None
    if kept is not None:  # no version learns from the evaluation set or its cities
        train_rows = evaluation_set.keep_out(frame, kept, cat)
        line = (
            f"{len(frame) - len(train_rows)} rows kept out of training: {kept.label(name)} "
            f"({len(kept.frame)} rows) and its {group_label(cat)}"
        )
        data_info["evaluation_set"] = line
        if progress:
            progress(line, 0, 0)
        enough = len(train_rows) + len(kept.frame) >= cfg.evaluation.holdout_from_rows
        fixed = kept.frame if enough else None

    with (
        mlflow.start_run(
            experiment_id=exp_id, run_name=f"train-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        ) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        log_dataset(train_rows, Path(data_path).stem, source, "training", cat)
        fitted = fit(train_rows, cfg, progress, cat, test=fixed)
        ev = fitted.evaluation
        assert ev is not None
        test = ev.frame
        new_set = kept is None and ev.method == "holdout" and cfg.split.by != "time"
        if new_set:  # the first holdout: its test split is kept for every later version
            kept = evaluation_set.create(test, latest + 1, cat, limits)
        if kept is not None:
            evaluation_set.log_input(kept, name, cat)
        elif ev.method == "holdout":
            log_dataset(test, f"{Path(data_path).stem} (test split)", source, "test", cat)
        learned_from = (
            pd.concat([fitted.split.dev, fitted.split.calibration])
            if ev.method == "holdout"
            else train_rows
        )
        if progress:
            progress("the null reference: refits on shuffled outcomes", 0, 0)
        assert fitted.tuned is not None
        fitted.bundle.meta[NOISE_META] = noise_points(fitted.bundle, train_rows, fitted.tuned, cfg)
        if progress:
            progress("what a plan can promise: cross-fitted plans on two halves", 0, 0)
        honesty = plan_honesty(fitted.bundle, train_rows, fitted.tuned, cfg)
        fitted.bundle.meta[HONESTY_META] = honesty
        if progress:
            progress("comparing with the champion on rows it never learned from", 0, 0)
        champion_version, champion_metrics, decision, champion, champion_run = (
            _compare_with_champion(settings, client, name, fitted, learned_from, cfg, progress)
        )
        if progress:
            progress("logging plots, the report and the model to MLflow", 0, 0)

        tmpdir = Path(tmp)
        mlflow.log_params(_flat_params(cfg, fitted))
        mlflow.log_params({"data_sha256": data_info["sha256"], "data_rows": data_info["rows"]})
        if config_path is not None:
            mlflow.log_artifact(str(config_path), "config")
        mlflow.log_dict(data_info, "data_fingerprint.json")
        mlflow.log_dict(
            {stage: found.trials for stage, found in fitted.search.items()}, "search_trials.json"
        )
        if not validation.valid:
            validation.problems.to_csv(tmpdir / "quarantined_problems.csv", index=False)
            mlflow.log_artifact(str(tmpdir / "quarantined_problems.csv"), "validation")
        metrics = {f"test_{k}": v for k, v in fitted.test_metrics.items()}
        for group, m in breakdown(test, ev.y, ev.p, truth_of(test, cat), cat).items():
            metrics.update(
                {
                    f"test_{group}_{k}": v
                    for k, v in m.items()
                    if k in ("roc_auc", "log_loss", "ece", "n")
                }
            )
        for b, m in fitted.baselines.items():
            metrics.update({f"baseline_{b}_{k}": v for k, v in m.items() if k != "n"})
        if champion_metrics:  # the champion on the same held-out rows it never learned from
            metrics.update({f"champion_{k}": v for k, v in champion_metrics.items() if k != "n"})
        if decision.difference:
            metrics.update({f"gate_difference_{k}": v for k, v in decision.difference.items()})
        metrics["train_seconds"] = fitted.seconds
        if kept is not None:  # every version and the champion on the same rows, same names
            metrics.update(evaluation_set.scores(fitted.bundle, kept))
            mlflow.set_tag(evaluation_set.RUN_LABEL_TAG, kept.label(name))
            if champion is not None and champion_run:
                on_set = evaluation_set.scores(champion, kept)
                metrics.update({f"champion_{k}": v for k, v in on_set.items()})
                evaluation_set.backfill(client, champion_run, on_set, kept.label(name))
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})

        curves = {
            **{k.replace("_", " "): p for k, p in ev.baseline_p.items()},
            **{f"{k} family": p for k, p in ev.family_p.items() if k != ev.chosen},
        }
        truth = truth_of(test, cat)
        if truth is not None:
            curves["true probability"] = truth
        mlflow.log_artifacts(str(_plots(fitted, tmpdir / "plots", curves)), "plots")

        version_hint = str(int(champion_version) + 1) if champion_version is not None else "new"
        report = model_report(fitted, data_info, decision.reasons, version_hint, champion_metrics)
        mlflow.log_text(report, "model_report.md")

        fitted.bundle.meta.update(
            {
                "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "run_id": run.info.run_id,
                "data": data_info,
                "metrics": {k: v for k, v in fitted.test_metrics.items() if np.isfinite(v)},
                "scalepredict_version": scalepredict.__version__,
                # the rows it learned from (dev + calibration), for `evaluate`'s overlap check
                TRAINING_ROWS: pack(row_hashes(learned_from, cat)),
            }
        )
        bundle_dir = fitted.bundle.save(tmpdir / "bundle")
        # Signed with a key the registry never holds: loading checks it before parsing.
        bundle_sha256 = signing.sign(bundle_dir, registry.signing_key(settings, create=True))
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(Path(__file__).with_name("mlflow_model.py")),
            artifacts={BUNDLE_ARTIFACT: str(bundle_dir)},
            signature=signature(cat),
            input_example=input_example(test, cat),
            registered_model_name=name,
            pip_requirements=_requirements(),
            code_paths=[str(Path(scalepredict.__file__).parent)],
        )
        version = str(info.registered_model_version)
        alias = registry.CHAMPION if decision.promote else registry.CHALLENGER
        client.set_registered_model_alias(name, alias, version)
        client.set_model_version_tag(name, version, "gate", " | ".join(decision.reasons))
        if new_set and kept is not None:
            evaluation_set.register(client, name, kept, run.info.run_id)
        client.set_model_version_tag(name, version, "data_sha256", data_info["sha256"])
        # For people only: loading trusts the HMAC in the bundle, never this copy.
        client.set_model_version_tag(name, version, "bundle_sha256", bundle_sha256)
        # What the gate decided then; who is champion now is the registry alias's alone (a
        # run tag saying "champion" would go stale when another version takes the alias).
        mlflow.set_tags(
            {
                "model_version": version,
                "promoted": str(decision.promote).lower(),
                "compared_with_champion": f"v{champion_version}" if champion_metrics else "none",
                "gate_case": decision.case,
                "gate_metric": decision.metric,
                "family": fitted.bundle.kind,
                "gate": " | ".join(decision.reasons),
                "bundle_sha256": bundle_sha256,
            }
        )
    held_out = (
        f"later {cat.date} than the training rows"
        if cfg.split.by == "time"
        else f"{group_label(cat)} unseen in training"
    )
    return TrainingRecord(
        name,
        version,
        alias,
        decision,
        run.info.run_id,
        fitted,
        champion_metrics,
        data_info,
        held_out,
    )
