"""Rows a labelled file loses, said out loud: how many have a problem (quarantined) and for
which rule, how many have a not-rated outcome, how many repeat a non-unique identifier (kept),
and a refusal when the quarantine takes more than the `max_quarantine_share` setting allows
(a model trained on half of its file is a model of the other half's absence)."""

from __future__ import annotations

from dataclasses import dataclass

from scalepredict.catalogue import Catalogue
from scalepredict.data.identifiers import repeats
from scalepredict.data.tables import DataFileError
from scalepredict.data.validation import ValidationResult

RULES_SHOWN = 5  # (column, rule) pairs named in the one-line summary


class QuarantineError(DataFileError):
    """More of the file's rows have problems than the configured share allows."""


@dataclass(frozen=True)
class LeftOut:
    rows: int  # rows in the file
    quarantined: int  # rows with at least one problem
    not_rated: int  # rows without a problem whose outcome is not rated
    by_rule: tuple[tuple[str, str, int], ...]  # (column, rule, rows), most rows first
    repeated: str = ""  # the non-unique identifier's repeats, in words ("" when none)

    @property
    def kept(self) -> int:
        return self.rows - self.quarantined - self.not_rated

    @property
    def share(self) -> float:
        return self.quarantined / self.rows if self.rows else 0.0

    def lines(self, not_rated: bool = True) -> list[str]:
        """What a person reads at the console (nothing when no row is left out); `not_rated`:
        say how many rows are skipped for a not-rated outcome."""
        out = []
        if self.quarantined:
            rules = "; ".join(f"{c}: {r} ({n})" for c, r, n in self.by_rule[:RULES_SHOWN])
            more = (
                f"; and {len(self.by_rule) - RULES_SHOWN} more"
                if len(self.by_rule) > RULES_SHOWN
                else ""
            )
            out.append(
                f"left out {self.quarantined} of {self.rows} row(s) ({self.share:.0%}) for "
                f"problems (quarantined): {rules}{more}"
            )
        if self.not_rated and not_rated:
            out.append(f"skipped {self.not_rated} row(s) whose outcome is not rated")
        if self.repeated:
            out.append(self.repeated)
        return out


def left_out(result: ValidationResult, cat: Catalogue) -> LeftOut:
    """Count what `result.good()` leaves out of the file, and why."""
    bad = result.bad_mask
    problems = result.problems
    by_rule: list[tuple[str, str, int]] = []
    if not problems.empty:
        counts = problems.groupby(["column", "rule"], sort=False)["row"].nunique()
        by_rule = [
            (str(c), str(r), int(n))
            for (c, r), n in counts.sort_values(ascending=False, kind="stable").items()
        ]
    kept = result.frame.loc[~bad & ~result.not_rated]
    return LeftOut(
        rows=len(result.frame),
        quarantined=int(bad.sum()),
        not_rated=int((result.not_rated & ~bad).sum()),
        by_rule=tuple(by_rule),
        repeated=repeats(kept, cat, result.raw.first_row),
    )


def refuse_above(left: LeftOut, share: float, path: object) -> None:
    """QuarantineError when the quarantine takes more than `share` of the file's rows."""
    if left.share > share:
        raise QuarantineError(
            f"{path}: {left.quarantined} of {left.rows} row(s) ({left.share:.0%}) have problems, "
            f"more than the {share:.0%} a training may leave out (max_quarantine_share, "
            "SCALEPREDICT_MAX_QUARANTINE_SHARE); fix the file (`scalepredict validate` lists "
            "every problem) or raise the share"
        )
