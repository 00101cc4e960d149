"""GET /admin/monitor: the monitor's summary over the audit store the service writes (the
same computation as `scalepredict monitor`, without writing reports or an MLflow run)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from scalepredict.api.state import ServiceState
from scalepredict.monitoring.monitor import MonitorRules, Reference, monitor
from scalepredict.monitoring.report import summary
from scalepredict.monitoring.report_types import MonitorSummary
from scalepredict.store.scorings import scorings
from scalepredict.tracking.registry import load_bundle, model_name


def _utc(d: date | None) -> datetime | None:
    return None if d is None else datetime(d.year, d.month, d.day, tzinfo=UTC)


def monitor_summary(state: ServiceState, since: date | None, until: date | None) -> MonitorSummary:
    cat, settings = state.catalogue, state.settings
    horizon = settings.outcome_horizon_months
    frame = scorings(state.audit.engine, cat, horizon, _utc(since), _utc(until))
    predictor, served = state.model()
    references: dict[str, Reference | None] = {}
    for version in frame["model_version"].astype(str).unique():
        if version == str(served["version"]):
            references[version] = Reference.of(predictor.bundle)
            continue
        try:  # an older version: from the registry, if it is still there
            uri = f"models:/{model_name(settings, cat)}/{version}"
            references[version] = Reference.of(load_bundle(uri, settings))
        except Exception:
            references[version] = None
    rules = MonitorRules(window=settings.monitor_window, min_window=settings.monitor_min_proposals)
    return summary(monitor(frame, cat, references, rules))
