"""The boosters' trees as flat arrays walked by one compiled (numba) loop: the same log-odds as
XGBoost's `inplace_predict`, without its fixed cost per call (about 0.2-0.4 ms, whatever the
number of rows), which the plan search pays some twenty times per request on a handful of rows.

Decisions follow XGBoost's CPU predictor: inputs as float32, a blank (NaN) takes the node's
default child, a numerical split sends `value < condition` left, a categorical split sends the
categories in its set right and any other code left; each row's leaves are added in tree order
to the base log-odds in float32. `compile_forest` checks the result against XGBoost on rows
built from every split's edges and returns None (XGBoost stays in use) where the two disagree
or the model is not a plain tree ensemble."""

from __future__ import annotations

import itertools
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import xgboost as xgb
from numba import njit

log = logging.getLogger(__name__)

TOLERANCE = 1e-5  # log-odds; float32 rounding of the base score at most
# From this many rows a call is split over threads (the loop releases the GIL); below it the
# hand-over costs more than it saves (benchmarks/tree_eval.py, 2 cores).
PARALLEL_ROWS = 1000
# the cores this process may use (Linux), else all the machine's
THREADS = min(
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8
)
_pool: tuple[int, ThreadPoolExecutor] | None = None  # (the process that made it, the pool)


def _threads() -> ThreadPoolExecutor:
    """The walk's thread pool, made anew in a forked child (a parent's pool has no threads
    there and would never run a task)."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(THREADS, thread_name_prefix="trees"))
    return _pool[1]


@njit(cache=True, nogil=True)
def _walk(  # pragma: no cover - compiled; checked against XGBoost in compile_forest and tests
    x: np.ndarray,
    booster: np.ndarray,
    tree_start: np.ndarray,
    base: np.ndarray,
    root: np.ndarray,
    feature: np.ndarray,
    value: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    default_left: np.ndarray,
    cat_begin: np.ndarray,
    cat_end: np.ndarray,
    cats: np.ndarray,
) -> np.ndarray:
    out = np.empty(x.shape[0], np.float32)
    for i in range(x.shape[0]):
        b = booster[i]
        acc = base[b]
        for t in range(tree_start[b], tree_start[b + 1]):
            node = root[t]
            while left[node] >= 0:
                v = x[i, feature[node]]
                if np.isnan(v):
                    node = left[node] if default_left[node] else right[node]
                elif cat_end[node] > cat_begin[node]:
                    go_right = False
                    if v >= 0:
                        code = np.int64(v)
                        for k in range(cat_begin[node], cat_end[node]):
                            if cats[k] == code:
                                go_right = True
                                break
                    node = right[node] if go_right else left[node]
                else:
                    node = left[node] if v < value[node] else right[node]
            acc += value[node]
        out[i] = acc
    return out


@dataclass(frozen=True)
class CompiledForest:
    """Every booster's trees in one set of arrays; booster k owns trees
    tree_start[k]:tree_start[k+1]. A leaf has left = -1 and its weight in `value`."""

    tree_start: np.ndarray
    base: np.ndarray
    root: np.ndarray
    feature: np.ndarray
    value: np.ndarray
    left: np.ndarray
    right: np.ndarray
    default_left: np.ndarray
    cat_begin: np.ndarray
    cat_end: np.ndarray
    cats: np.ndarray

    def margin(self, x: np.ndarray, booster: np.ndarray) -> np.ndarray:
        """Log-odds of each row of the feature matrix `x` by the booster numbered in
        `booster` (one per row)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        booster = np.ascontiguousarray(booster, dtype=np.int64)
        if len(x) < PARALLEL_ROWS or THREADS < 2:
            return self._walk_part(x, booster)
        bounds = np.linspace(0, len(x), THREADS + 1).astype(int)
        parts = [
            _threads().submit(self._walk_part, x[a:b], booster[a:b])
            for a, b in itertools.pairwise(bounds)
        ]
        return np.concatenate([p.result() for p in parts])

    def _walk_part(self, x: np.ndarray, booster: np.ndarray) -> np.ndarray:
        return _walk(
            x,
            booster,
            self.tree_start,
            self.base,
            self.root,
            self.feature,
            self.value,
            self.left,
            self.right,
            self.default_left,
            self.cat_begin,
            self.cat_end,
            self.cats,
        ).astype(np.float64)


class _Unsupported(ValueError):
    pass


def _flatten(boosters: list[xgb.Booster]) -> CompiledForest:
    tree_start, base, root = [0], [], []
    feature: list[int] = []
    value: list[float] = []
    left: list[int] = []
    right: list[int] = []
    default_left: list[bool] = []
    cat_begin: list[int] = []
    cat_end: list[int] = []
    cats: list[int] = []
    for booster in boosters:
        learner = json.loads(booster.save_raw("json"))["learner"]
        gb = learner["gradient_booster"]
        objective = learner["objective"]["name"]
        if gb["name"] != "gbtree" or objective != "binary:logistic":
            raise _Unsupported(f"{gb['name']} / {objective}")
        params = learner["learner_model_param"]
        if params["num_target"] != "1" or params["num_class"] != "0":
            raise _Unsupported("more than one output")
        # "[2.9757345E-1]" in XGBoost 3, a plain number before: a probability here
        p = np.float32(str(params["base_score"]).strip("[]"))
        base.append(-np.log(np.float32(1) / p - np.float32(1)))
        for tree in gb["model"]["trees"]:
            offset = len(feature)
            root.append(offset)
            n = len(tree["left_children"])
            sets = {
                node: tree["categories"][start : start + size]
                for node, start, size in zip(
                    tree["categories_nodes"],
                    tree["categories_segments"],
                    tree["categories_sizes"],
                    strict=True,
                )
            }
            for i in range(n):
                is_leaf = tree["left_children"][i] < 0
                left.append(-1 if is_leaf else offset + tree["left_children"][i])
                right.append(-1 if is_leaf else offset + tree["right_children"][i])
                feature.append(tree["split_indices"][i])
                value.append(tree["split_conditions"][i])
                default_left.append(bool(tree["default_left"][i]))
                members = sets.get(i, []) if tree["split_type"][i] == 1 else []
                if tree["split_type"][i] == 1 and not members:
                    raise _Unsupported("a categorical split with an empty set")
                cat_begin.append(len(cats))
                cats.extend(int(c) for c in members)
                cat_end.append(len(cats))
        tree_start.append(len(root))
    return CompiledForest(
        tree_start=np.array(tree_start, np.int64),
        base=np.array(base, np.float32),
        root=np.array(root, np.int64),
        feature=np.array(feature, np.int64),
        value=np.array(value, np.float32),
        left=np.array(left, np.int64),
        right=np.array(right, np.int64),
        default_left=np.array(default_left, np.bool_),
        cat_begin=np.array(cat_begin, np.int64),
        cat_end=np.array(cat_end, np.int64),
        cats=np.array(cats, np.int64),
    )


def edge_rows(forest: CompiledForest, n_features: int, rows: int, seed: int = 0) -> np.ndarray:
    """Rows whose every value sits on an edge of some split: each condition itself (equality
    goes right), the float just below it, every category in a set and one beside it, a blank
    and values beyond every condition; the cases where two evaluators could part ways."""
    rng = np.random.default_rng(seed)
    inner = forest.left >= 0
    choices: list[np.ndarray] = []
    for f in range(n_features):
        at = inner & (forest.feature == f)
        numeric = forest.value[at & (forest.cat_end == forest.cat_begin)]
        spans = zip(forest.cat_begin[at], forest.cat_end[at], strict=True)
        categorical = np.concatenate([forest.cats[b:e] for b, e in spans] or [np.zeros(0)])
        values = [
            numeric,
            np.nextafter(numeric, np.float32(-np.inf)),
            categorical,
            categorical + 1,
            [np.nan, -1e9, 1e9, 0.0],
        ]
        choices.append(np.unique(np.concatenate([np.asarray(v, np.float64) for v in values])))
    return np.column_stack([rng.choice(c, rows) for c in choices])


def compile_forest(boosters: list[xgb.Booster], check_rows: int = 512) -> CompiledForest | None:
    """The boosters compiled, or None where they cannot be (another booster type or
    objective, multiple outputs) or where the compiled log-odds differ from XGBoost's on rows
    built from every split's edges: then XGBoost is used, slower but never wrong."""
    try:
        forest = _flatten(boosters)
    except (_Unsupported, KeyError, ValueError, TypeError) as e:
        log.info("trees not compiled (%s): XGBoost predicts every call", e)
        return None
    n_features = boosters[0].num_features()
    x = edge_rows(forest, n_features, check_rows)
    for k, booster in enumerate(boosters):
        theirs = np.asarray(booster.inplace_predict(x, predict_type="margin"), np.float64)
        worst = _match_base(forest, x, k, theirs)
        if not worst <= TOLERANCE:
            log.warning(
                "compiled trees differ from XGBoost by %.3g log-odds: XGBoost predicts every call",
                worst,
            )
            return None
    return forest


def _match_base(forest: CompiledForest, x: np.ndarray, k: int, theirs: np.ndarray) -> float:
    """Set booster k's float32 base log-odds to XGBoost's own (its logit of the base score
    may round to a neighbouring float: a few ulps either side are tried, the one whose sums
    equal XGBoost's on most rows kept) and return the largest remaining difference."""
    rows = np.full(len(x), k)
    start = forest.base[k]
    best, best_hits = start, -1
    for steps in (0, -1, 1, -2, 2, -3, 3, -4, 4):
        candidate = start
        for _ in range(abs(steps)):
            candidate = np.nextafter(candidate, np.float32(np.sign(steps) * np.inf))
        forest.base[k] = candidate
        hits = int(np.sum(forest.margin(x, rows) == theirs))
        if hits > best_hits:
            best, best_hits = candidate, hits
    forest.base[k] = best
    return float(np.max(np.abs(forest.margin(x, rows) - theirs)))
