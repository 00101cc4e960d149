"""The promotion gate: a new model becomes `champion` only when it is not worse than the
current champion on the same test set and beats every baseline trained on the same split."""

from __future__ import annotations

from dataclasses import dataclass

from scalepredict.model.config import GateConfig


@dataclass
class GateDecision:
    promote: bool
    reasons: list[str]  # every failed check, or what passed


def gate(
    new: dict[str, float],
    baselines: dict[str, dict[str, float]],
    champion: dict[str, float] | None,
    cfg: GateConfig,
) -> GateDecision:
    """Champion only if not worse than the current champion on the same test set and better
    than every baseline trained on the same split."""
    failed, passed = [], []
    for name, b in baselines.items():
        if new["roc_auc"] > b["roc_auc"] and new["log_loss"] < b["log_loss"]:
            passed.append(
                f"beats {name} (AUC {new['roc_auc']:.4f} > {b['roc_auc']:.4f}, "
                f"log loss {new['log_loss']:.4f} < {b['log_loss']:.4f})"
            )
        else:
            failed.append(
                f"does not beat {name}: AUC {new['roc_auc']:.4f} vs {b['roc_auc']:.4f}, "
                f"log loss {new['log_loss']:.4f} vs {b['log_loss']:.4f}"
            )
    if champion is not None:
        tol_auc, tol_ll = cfg.auc_tolerance, cfg.log_loss_tolerance
        if new["roc_auc"] < champion["roc_auc"] - tol_auc:
            failed.append(
                f"AUC {new['roc_auc']:.4f} is worse than the champion's "
                f"{champion['roc_auc']:.4f} by more than {tol_auc}"
            )
        if new["log_loss"] > champion["log_loss"] + tol_ll:
            failed.append(
                f"log loss {new['log_loss']:.4f} is higher than the champion's "
                f"{champion['log_loss']:.4f}"
            )
        if not failed:
            passed.append("not worse than the champion on the same test set")
    else:
        passed.append("no usable champion to compare with")
    return GateDecision(promote=not failed, reasons=failed or passed)
