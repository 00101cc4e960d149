"""One proposal's plan search as a mixed-integer linear program, solved exactly by HiGHS.

Variables: a binary x[j, k] per movable factor j and step count k = 1..room (0 steps when all
of j's are 0), at most one per factor; the objective is the plan's effort (`cum[j, k]` per
x[j, k]) within the budget. The model's learned log-odds for each way of reading the blanks
(`plan_optimum.py` adds the ways) must reach the goal, written per family:

- additive families (logistic, checklist, explainable boosting): with the blanks fixed, each
  factor adds its own term, so the log-odds are the assessed log-odds plus the gain of each
  x[j, k] (measured on the model itself): a multiple-choice knapsack over each factor's
  reachable levels;
- trees (one stage's booster: a proposal is scored by its stage's trees only), leaf by leaf
  as in Misic's and OCEAN's encodings: per tree a weight y >= 0 per reachable leaf summing to
  1, and per split that depends on the plan, the leaves left of it weighted at most the
  chance it goes left, those right at most the chance it goes right. Splits on context,
  blanks and unmoved factors are decided before encoding (pruned). A split on a factor reads
  x directly; a split on a dimension's mean (or the weakest mean) reads a binary z per
  threshold, tied to the sum of the dimension's steps: each step adds 1 / span to its
  factor's common score, so the mean is affine in x, and the step sums reachable on either
  side of the threshold are computed from the model's own feature code, as XGBoost compares
  them (float32)."""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from scalepredict.catalogue import Catalogue
from scalepredict.model.compiled_trees import CompiledForest
from scalepredict.model.features import derived_names, dimension_scores

INF = highspy.kHighsInf

Affine = tuple[float, dict[int, float]]  # constant, {column: coefficient}
_INFEASIBLE = (
    highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)


@dataclass
class Milp:
    """Columns and rows, passed to HiGHS at once (one `passModel`)."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    starts: list[int] = field(default_factory=lambda: [0])
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)

    def var(self, lo: float, hi: float, cost: float = 0.0, integer: bool = False) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        self.cost.append(cost)
        self.integer.append(integer)
        return len(self.lower) - 1

    def row(self, expr: Affine, lo: float, hi: float) -> None:
        """lo <= expr <= hi (the expression's constant moved to the bounds)."""
        const, terms = expr
        self.index.extend(terms)
        self.value.extend(terms.values())
        self.starts.append(len(self.index))
        self.row_lower.append(lo - const)
        self.row_upper.append(hi - const)

    def solve(self, seconds: float) -> tuple[str, np.ndarray]:
        """("optimal" | "infeasible" | "timeout", the columns' values)."""
        if not self.lower:  # no step fits: feasible exactly when every row holds at 0
            holds = all(lo <= 1e-9 and hi >= -1e-9 for lo, hi in self._bounds())
            return ("optimal" if holds else "infeasible"), np.zeros(0)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(self.lower), len(self.row_lower)
        lp.col_cost_ = np.array(self.cost, float)
        lp.col_lower_, lp.col_upper_ = np.array(self.lower, float), np.array(self.upper, float)
        lp.row_lower_ = np.array(self.row_lower, float)
        lp.row_upper_ = np.array(self.row_upper, float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(self.starts, np.int32)
        lp.a_matrix_.index_ = np.array(self.index, np.int32)
        lp.a_matrix_.value_ = np.array(self.value, float)
        kinds = highspy.HighsVarType
        lp.integrality_ = [kinds.kInteger if i else kinds.kContinuous for i in self.integer]
        h.passModel(lp)
        h.setOptionValue("time_limit", max(seconds, 1e-3))
        h.setOptionValue("mip_rel_gap", 0.0)  # efforts are whole sums: prove the optimum
        h.setOptionValue("mip_abs_gap", 1e-6)
        h.setOptionValue("threads", 1)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return "optimal", np.array(h.getSolution().col_value)
        # every column is bounded, so "unbounded or infeasible" is infeasible
        if status in _INFEASIBLE:
            return "infeasible", np.zeros(0)
        return "timeout", np.zeros(0)

    def _bounds(self) -> list[tuple[float, float]]:
        return list(zip(self.row_lower, self.row_upper, strict=True))


@dataclass
class StepVars:
    """The plan's variables: `cols[j][k - 1]` is x[j, k] for the step counts that fit."""

    cols: dict[int, list[int]]
    span: np.ndarray  # per factor: its scale's span (a step adds 1 / span on the common scale)

    def indicator(self, j: int, right: np.ndarray) -> Affine:
        """1 where factor j's step count k has `right[k]`, else 0, as an affine form."""
        base = float(right[0])
        terms = {c: float(right[k + 1]) - base for k, c in enumerate(self.cols[j])}
        return base, {c: v for c, v in terms.items() if v}


def step_vars(
    milp: Milp, cum: np.ndarray, room: np.ndarray, budget: float, cat: Catalogue
) -> StepVars:
    """x[j, k] for every factor with room and each k whose effort alone fits the budget; one
    step count per factor; the budget over all."""
    cols: dict[int, list[int]] = {}
    for j in np.flatnonzero(room > 0).tolist():
        fits = [k for k in range(1, int(room[j]) + 1) if cum[j, k] <= budget + 1e-9]
        if fits:
            cols[j] = [milp.var(0, 1, float(cum[j, k]), integer=True) for k in fits]
            milp.row((0.0, dict.fromkeys(cols[j], 1.0)), -INF, 1)
    spend = {c: float(cum[j, k + 1]) for j, cs in cols.items() for k, c in enumerate(cs)}
    if spend:
        milp.row((0.0, spend), -INF, budget + 1e-9)
    span = np.array([f.scale_max - f.scale_min for f in cat.factors], float)
    return StepVars(cols, span)


def additive_margin(gains: dict[int, np.ndarray], m0: float, xs: StepVars) -> Affine:
    """The log-odds of an additive family: m0 plus, per factor, the gain of k steps
    (`gains[j][k - 1]`, measured on the model)."""
    terms = {c: float(gains[j][k]) for j, cs in xs.cols.items() for k, c in enumerate(cs)}
    return m0, terms


@dataclass
class TreeEncoder:
    """Encodes one booster's log-odds at one reading of a proposal (`margin`'s `x0`: its
    feature row with the blanks as that way reads them, no step taken). Readings share the
    dimension binaries (keyed by the steps' sum at the threshold) and every tree whose pruned
    form is the same (a tree that never reads a blank's inputs)."""

    milp: Milp
    xs: StepVars
    forest: CompiledForest
    cat: Catalogue
    start: np.ndarray  # factor scores as assessed (NaN: blank)
    step: np.ndarray

    def __post_init__(self) -> None:
        cat, nf = self.cat, len(self.step)
        self.nd = len(derived_names(cat))  # the dimensions' means, then the weakest
        self.first = len(cat.feature_context) + self.nd  # the first factor column
        self.means_at = self.first - self.nd
        dim_of = [
            cat.dimension_names.index(f.dimension) if f.direction else -1 for f in cat.factors
        ]
        self.members = {d: [j for j in self.xs.cols if dim_of[j] == d] for d in range(self.nd - 1)}
        self.variable = np.zeros(self.first + nf, bool)
        self.variable[[self.first + j for j in self.xs.cols]] = True
        for d, members in self.members.items():
            self.variable[self.means_at + d] = bool(members)
        self.variable[self.first - 1] = bool(self.xs.cols)
        self._z: dict[tuple[int, float], int] = {}
        self._sums: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._means: dict[tuple[int, bytes], np.ndarray] = {}
        self._trees: dict[tuple, Affine] = {}

    def margin(self, booster: int, x0: np.ndarray) -> Affine:
        f = self.forest
        const = float(f.base[booster])
        terms: dict[int, float] = {}
        x32 = x0.astype(np.float32)
        for t in range(f.tree_start[booster], f.tree_start[booster + 1]):
            c, tt = self._tree(int(f.root[t]), x0, x32)
            const += c
            for k, v in tt.items():
                terms[k] = terms.get(k, 0.0) + v
        return const, terms

    def _tree(self, root: int, x0: np.ndarray, x32: np.ndarray) -> Affine:
        f, milp = self.forest, self.milp
        # each leaf with its path: (split node, its going right, whether the path goes right)
        leaves: list[tuple[int, list[tuple[int, Affine, bool]]]] = []
        stack: list[tuple[int, list[tuple[int, Affine, bool]]]] = [(root, [])]
        while stack:
            node, path = stack.pop()
            if f.left[node] < 0:
                leaves.append((node, path))
                continue
            right = self._right(node, x0) if self.variable[f.feature[node]] else None
            if right is None or not right[1]:  # no step changes this split
                go = self._fixed(node, x32) if right is None else right[0] >= 0.5
                stack.append((int(f.right[node] if go else f.left[node]), path))
                continue
            stack.append((int(f.left[node]), [*path, (node, right, False)]))
            stack.append((int(f.right[node]), [*path, (node, right, True)]))
        if len(leaves) == 1:
            return float(f.value[leaves[0][0]]), {}
        key = tuple(
            (leaf, tuple((n, w, r[0], tuple(sorted(r[1].items()))) for n, r, w in path))
            for leaf, path in leaves
        )
        if key in self._trees:
            return self._trees[key]
        ys = [milp.var(0, 1) for _ in leaves]
        milp.row((0.0, dict.fromkeys(ys, 1.0)), 1, 1)
        sides: dict[tuple[int, bool], tuple[Affine, list[int]]] = {}
        for y, (_, path) in zip(ys, leaves, strict=True):
            for node, right, went in path:
                sides.setdefault((node, went), (right, []))[1].append(y)
        for (_, went), ((const, terms), ys_side) in sides.items():
            # sum of the side's leaves <= the chance of that side (right: P, left: 1 - P)
            sign = -1.0 if went else 1.0
            row = dict.fromkeys(ys_side, 1.0)
            for c, v in terms.items():
                row[c] = row.get(c, 0.0) + sign * v
            milp.row((sign * const, row), -INF, 0.0 if went else 1.0)
        out = 0.0, {y: float(f.value[leaf]) for y, (leaf, _) in zip(ys, leaves, strict=True)}
        self._trees[key] = out
        return out

    def _fixed(self, node: int, x32: np.ndarray) -> bool:
        """Whether a split that no step changes goes right, as XGBoost decides it."""
        f = self.forest
        v = x32[f.feature[node]]
        if np.isnan(v):
            return not f.default_left[node]
        if f.cat_end[node] > f.cat_begin[node]:
            return bool(v >= 0 and int(v) in f.cats[f.cat_begin[node] : f.cat_end[node]])
        return not bool(v < f.value[node])

    def _right(self, node: int, x0: np.ndarray) -> Affine:
        """The split's going right as an affine form in the variables."""
        f = self.forest
        col, thr = int(f.feature[node]), f.value[node]
        if col >= self.first:  # a factor: its level after k steps against the threshold
            j = col - self.first
            ks = np.arange(len(self.xs.cols[j]) + 1)
            levels = (self.start[j] + self.step[j] * ks).astype(np.float32)
            return self.xs.indicator(j, ~(levels < thr))
        d = col - self.means_at
        if d < self.nd - 1:
            return self._dimension_right(d, thr, x0)
        # the weakest mean: right when every dimension's mean is (fmin skips unknown ones)
        parts = []
        for d in range(self.nd - 1):
            if np.isnan(x0[self.means_at + d]):
                continue
            part = self._dimension_right(d, thr, x0)
            if not part[1]:
                if part[0] < 0.5:
                    return 0.0, {}
                continue
            parts.append(part)
        if len(parts) <= 1:
            return parts[0] if parts else (1.0, {})
        w = self.milp.var(0, 1)
        zs = [next(iter(p[1])) for p in parts]  # each part is one binary z
        for z in zs:  # w <= each z
            self.milp.row((0.0, {w: 1.0, z: -1.0}), -INF, 0)
        self.milp.row((0.0, {w: 1.0, **dict.fromkeys(zs, -1.0)}), 1.0 - len(zs), INF)
        return 0.0, {w: 1.0}

    def _dimension_right(self, d: int, thr: np.float32, x0: np.ndarray) -> Affine:
        """Dimension d's mean (at this reading) reaching the threshold, by its steps' sum."""
        members = self.members[d]
        if not members:
            return (0.0 if np.float32(x0[self.means_at + d]) < thr else 1.0), {}
        sums, states = self._reachable(d)
        key = (d, x0[-len(self.step) :].tobytes())
        if key not in self._means:
            scores = np.repeat(x0[None, -len(self.step) :], len(states), axis=0)
            scores[:, members] += states * self.step[members]
            self._means[key] = dimension_scores(scores, self.cat)[:, d].astype(np.float32)
        right = ~(self._means[key] < thr)
        if right.all() or not right.any():
            return float(right[0]), {}
        at = float(sums[right].min())
        if (d, at) not in self._z:
            self._z[(d, at)] = self._new_z(d, at, float(sums[~right].max()), sums)
        return 0.0, {self._z[(d, at)]: 1.0}

    def _new_z(self, d: int, at: float, below: float, sums: np.ndarray) -> int:
        """A binary z: 1 exactly when the dimension's steps' sum is at least `at` (no sum
        lies between `below` and `at`), ordered with the dimension's other thresholds."""
        milp, lo, hi = self.milp, float(sums.min()), float(sums.max())
        z = milp.var(0, 1, integer=True)
        expr = {
            c: (k + 1) / self.xs.span[j]
            for j in self.members[d]
            for k, c in enumerate(self.xs.cols[j])
        }
        milp.row((0.0, {**expr, z: lo - at}), lo, INF)  # z = 1: the sum >= at
        milp.row((0.0, {**expr, z: below - hi}), -INF, below)  # z = 0: the sum <= below
        for (other, at2), z2 in self._z.items():  # a higher threshold is reached only if...
            if other == d:
                pair = {z: 1.0, z2: -1.0} if at > at2 else {z2: 1.0, z: -1.0}
                milp.row((0.0, pair), -INF, 0)
        return z

    def _reachable(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """The distinct sums of the dimension's steps (on the common scale) that the step
        counts allow, each with one state (steps per member) that makes it."""
        if d not in self._sums:
            members = self.members[d]
            found = {0.0: np.zeros(len(members))}
            for i, j in enumerate(members):
                nxt = dict(found)
                for total, state in found.items():
                    for k in range(1, len(self.xs.cols[j]) + 1):
                        s = round(total + k / self.xs.span[j], 9)
                        if s not in nxt:
                            nxt[s] = state.copy()
                            nxt[s][i] = k
                found = nxt
            sums = np.array(sorted(found))
            self._sums[d] = (sums, np.array([found[s] for s in sums]))
        return self._sums[d]
