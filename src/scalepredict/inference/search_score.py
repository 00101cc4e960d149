"""Log-odds for the plan search, with a bound on what blank answers cost it.

Under a level policy a proposal with b blanks scores the least log-odds over every way of
answering them at the level (`model.unknowns`): up to 6,195 model rows per score for 20
blanks, paid for each of the thousands of candidate plans the search weighs, seconds per
proposal. A plan never changes a blank, so the search keeps, per proposal, only the
`MAX_WAYS` ways that score lowest as assessed (all of them where there are no more, which is
every proposal with at most four blanks: exact). The least over those ways is never below the
policy's score and equals it as assessed; where a plan's steps would make another way the
lowest, the search sees a slightly better chance than the policy gives. Every figure a plan
shows is computed afterwards with the whole policy (`plans._prefix_margins`).

States may also answer some of a row's blanks (the questions to answer first): a way then
answers only the blanks still open, which is one of the ways of the answered row, so the bound
still holds."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from scalepredict.model.bundle import ModelBundle
from scalepredict.model.features import with_scores
from scalepredict.model.unknowns import answer_masks, policy_levels

MAX_WAYS = 16  # ways of answering a proposal's blanks the search weighs, at most


@dataclass(frozen=True)
class SearchScore:
    """The search's log-odds of the rows of `feats` with other factor scores."""

    bundle: ModelBundle
    feats: np.ndarray
    levels: np.ndarray | None  # each factor's policy level (None: blanks read as learned)
    table: np.ndarray  # all rows' ways x factors: blanks answered at the level
    first: np.ndarray  # per row: where its ways start in `table`
    ways: np.ndarray  # per row: how many
    learned: np.ndarray  # per row: whether the learned reading is one of them
    index: np.ndarray  # the rows callers name -> rows of `feats`

    @classmethod
    def of(cls, bundle: ModelBundle, feats: np.ndarray) -> SearchScore:
        cat = bundle.catalogue
        nf = len(cat.factor_names)
        levels = policy_levels(cat)
        blank = np.isnan(feats[:, -nf:])
        n = len(feats)
        tables, learned = [np.zeros((0, nf), bool)], np.ones(n, bool)
        counts = np.zeros(n, int)
        for r in np.flatnonzero(blank.any(axis=1)):
            if levels is None:  # blanks read as learned: one reading, the model's
                break
            masks, learned[r] = answer_masks(blank[r])
            if len(masks) > MAX_WAYS:  # the ways that score lowest as assessed
                filled = np.where(masks, levels[None, :], feats[r, -nf:][None, :])
                x = with_scores(np.repeat(feats[[r]], len(masks), axis=0), filled, cat)
                masks = masks[np.argsort(bundle.learned_margin_of(x), kind="stable")[:MAX_WAYS]]
            tables.append(masks)
            counts[r] = len(masks)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]]) if n else counts
        return cls(
            bundle, feats, levels, np.concatenate(tables), first, counts, learned, np.arange(n)
        )

    @property
    def rows(self) -> np.ndarray:
        """The feature rows as callers name them."""
        return self.feats[self.index]

    def take(self, rows: np.ndarray) -> SearchScore:
        """The same scores with rows named anew: row k is this one's `rows[k]`."""
        return replace(self, index=self.index[rows])

    def margins(self, rows: np.ndarray, states: np.ndarray) -> np.ndarray:
        """Log-odds of rows `rows` (context as they are) with factor scores `states`."""
        cat = self.bundle.catalogue
        at = self.index[rows]
        x = with_scores(self.feats[at].copy(), states, cat)
        count = self.ways[at]
        if self.levels is None or not count.any():
            return self.bundle.learned_margin_of(x)
        owner = np.repeat(np.arange(len(at)), count)
        offset = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
        masks = self.table[self.first[at][owner] + offset]
        # a way answers only what is still blank (`questions` answers some blanks itself)
        own = states[owner]
        filled = np.where(masks & np.isnan(own), self.levels[None, :], own)
        answered = with_scores(self.feats[at[owner]].copy(), filled, cat)
        m = self.bundle.learned_margin_of(np.concatenate([x, answered]))
        learned, by_way = m[: len(at)], m[len(at) :]
        least = np.full(len(at), np.inf)
        np.minimum.at(least, owner, by_way)
        return np.where(self.learned[at], np.minimum(learned, least), least)
