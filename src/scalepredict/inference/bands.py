"""Risk bands on the calibrated probability of scaling up, shared by plans and scores."""

from __future__ import annotations

# Risk that the initiative does NOT scale, read from the probability that it does.
# Bands are fixed cut-offs on the calibrated probability so a band means the same thing across
# model versions: < 0.25 high risk, < 0.45 elevated, < 0.65 moderate, else low.
RISK_BANDS: list[tuple[float, str]] = [
    (0.25, "high"),
    (0.45, "elevated"),
    (0.65, "moderate"),
    (1.01, "low"),
]


def risk_band(p: float) -> str:
    return next(name for upper, name in RISK_BANDS if p < upper)


def next_band_target(p: float) -> float:
    """The probability that lifts an initiative into the next-better risk band."""
    for upper, _ in RISK_BANDS[:-1]:
        if p < upper:
            return upper
    return min(p + 0.15, 0.99)
