"""Default training time and test AUC, before and after, beside the Bayes limit.

Runs `scalepredict train` (the whole command: validation, search, calibration, plots, MLflow
logging and registration) once per named configuration, each into a scratch MLflow store,
side by side in one script so that both see the same machine load (reported). Also scores
each trained model on 20,000 freshly generated rows, where AUC differences between
configurations are not the noise of one 1,000-row test set.

Usage: python benchmarks/training.py [--data data/initiatives.csv]
       [--config baseline=training/baseline.yaml --config default=training/default.yaml]"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"baseline": "training/baseline.yaml", "default": "training/default.yaml"}
FRESH_ROWS, FRESH_SEED = 20_000, 2002


def cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split()[1:9]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def train(name: str, config: str, data: Path) -> dict:
    store = Path(tempfile.mkdtemp(prefix=f"sp-train-{name}-"))
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{store}/mlflow.db",
        "SCALEPREDICT_MODEL_CACHE": str(store / "cache"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "scalepredict.cli", "train", "--data", str(data)]
    load, (busy0, total0) = os.getloadavg()[0], cpu_seconds()
    t = time.perf_counter()
    out = subprocess.run(
        [*cmd, "--config", str(ROOT / config)], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t
    busy1, total1 = cpu_seconds()
    if out.returncode != 0:
        raise RuntimeError(f"{name}: {out.stderr[-2000:]}")
    os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
    from scalepredict.settings import get_settings
    from scalepredict.tracking.registry import connect, load_bundle

    settings = get_settings()
    client = connect(settings)
    version = client.get_model_version_by_alias("scalepredict", "champion")
    metrics = client.get_run(version.run_id).data.metrics
    return {
        "seconds": seconds,
        "fit_seconds": metrics["train_seconds"],
        "test_auc": metrics["test_roc_auc"],
        "test_log_loss": metrics["test_log_loss"],
        "bayes_test_auc": metrics.get("test_bayes_roc_auc", float("nan")),
        "bundle": load_bundle("models:/scalepredict@champion", settings),
        "load": load,
        "machine_busy": (busy1 - busy0) / max(total1 - total0, 1e-9),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "initiatives.csv")
    ap.add_argument("--config", action="append", help="NAME=PATH (repeatable)")
    args = ap.parse_args()
    configs = dict(c.split("=", 1) for c in args.config) if args.config else CONFIGS
    from scalepredict.data.synthetic import generate
    from scalepredict.model.metrics import probability_metrics

    fresh = generate(FRESH_ROWS, FRESH_SEED, truth=True)
    y = fresh["scaled_up"].astype(int).to_numpy()
    bayes = probability_metrics(y, fresh["true_probability"].to_numpy())
    print(f"{os.cpu_count()} CPUs; data {args.data}; fresh rows {FRESH_ROWS} (seed {FRESH_SEED})")
    print(
        f"{'config':<10} {'train s':>8} {'fit s':>6} {'test AUC':>9} {'Bayes':>7} "
        f"{'log loss':>9} {'fresh AUC':>10} {'Bayes':>7} {'load1':>6} {'CPU busy':>9}"
    )
    for name, config in configs.items():
        r = train(name, config, args.data)
        m = probability_metrics(y, r["bundle"].probability(fresh))
        print(
            f"{name:<10} {r['seconds']:8.1f} {r['fit_seconds']:6.1f} {r['test_auc']:9.4f} "
            f"{r['bayes_test_auc']:7.4f} {r['test_log_loss']:9.4f} {m['roc_auc']:10.4f} "
            f"{bayes['roc_auc']:7.4f} {r['load']:6.2f} {r['machine_busy']:9.0%}",
            flush=True,
        )


if __name__ == "__main__":
    main()
