"""How matured outcomes change a training set: each outcome row is added (a new initiative),
replaces the history row of the same initiative (its outcome or answers changed), is already
in the history (identical: nothing to do), or collides with a history row that shares its
identifier but not its identifying fields (the catalogue's group, stage and date: another
initiative under a reused id). A collision is never resolved silently: the caller chooses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from scalepredict.catalogue import Catalogue

# What to do with a collision: stop, let the outcome replace the history row, or keep the
# history row and leave the outcome out.
OnCollision = Literal["refuse", "replace", "keep"]


@dataclass(frozen=True)
class Collision:
    """An outcome whose id is a history row's but whose identifying fields differ."""

    id: str
    differences: tuple[tuple[str, str, str], ...]  # (field, history's value, the outcome's)

    def describe(self) -> str:
        def side(i: int) -> str:
            return ", ".join(f"{d[0]} {d[i] or '(empty)'}" for d in self.differences)

        return f"{self.id}: in the history {side(1)}; in the outcome {side(2)}"


@dataclass(frozen=True)
class TrainingSetChange:
    """The new training set and what each outcome did to the history (ids, in outcome order)."""

    frame: pd.DataFrame
    history: int
    added: list[str]
    replaced: list[str]
    unchanged: list[str]
    collisions: list[Collision]
    on_collision: OnCollision

    @property
    def refused(self) -> bool:
        return bool(self.collisions) and self.on_collision == "refuse"


def identifying_fields(cat: Catalogue) -> list[str]:
    """The fields that tell two initiatives apart besides the id (city, stage, date)."""
    return [f for f in (cat.group, cat.stage, cat.date) if f]


def _text(column: pd.Series) -> pd.Series:
    """Cells as comparable text whatever dtype a reader gave them: dates as YYYY-MM-DD, numbers
    as floats (3 and 3.0 agree), blanks as ''."""
    if pd.api.types.is_datetime64_any_dtype(column):
        text = column.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        text = column.astype("Float64").astype("object").map(str)
    else:
        text = column.astype("object").map(lambda v: str(v).strip())
    return text.where(column.notna(), "").astype(str)


def merge_outcomes(
    history: pd.DataFrame, outcomes: pd.DataFrame, cat: Catalogue, on_collision: OnCollision
) -> TrainingSetChange:
    """History (typed, labelled) plus outcome rows (typed, labelled, one per id). With
    "refuse" the frame leaves the colliding outcomes out; the caller is expected to stop."""
    columns = [c for c in cat.labelled_columns() if c in history and c in outcomes]
    key = cat.id_column
    hist = history[columns].reset_index(drop=True)
    new = outcomes[columns].reset_index(drop=True)
    position = pd.Series(hist.index, index=_text(hist[key]))
    position = position[~position.index.duplicated()]
    new_ids = _text(new[key])
    at = new_ids.map(position)  # each outcome's history row, NaN when the id is new
    known = at.notna()
    old = hist.loc[at[known].astype(int)].reset_index(drop=True)
    mine = new[known].reset_index(drop=True)
    ident = [f for f in identifying_fields(cat) if f in columns]
    was = {c: _text(old[c]).tolist() for c in columns}
    now = {c: _text(mine[c]).tolist() for c in columns}
    collisions = []
    same_initiative, identical = [], []
    for i, rid in enumerate(new_ids[known]):
        moved = [c for c in ident if was[c][i] != now[c][i]]
        if moved:
            collisions.append(Collision(rid, tuple((c, was[c][i], now[c][i]) for c in moved)))
        elif any(was[c][i] != now[c][i] for c in columns):
            same_initiative.append(rid)
        else:
            identical.append(rid)
    replacing = set(same_initiative)
    if on_collision == "replace":
        replacing |= {c.id for c in collisions}
    taken = new_ids.isin(replacing) | ~known
    kept = hist[~_text(hist[key]).isin(replacing)]
    frame = pd.concat([kept, new[taken.to_numpy()]], ignore_index=True)
    return TrainingSetChange(
        frame=frame,
        history=len(hist),
        added=new_ids[~known].tolist(),
        replaced=same_initiative,
        unchanged=identical,
        collisions=collisions,
        on_collision=on_collision,
    )
