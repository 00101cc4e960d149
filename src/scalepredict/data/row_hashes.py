"""Row fingerprints: one 64-bit hash per assessment row, so that a model can say which rows it
learned from without storing them (evaluation warns when its data overlaps them)."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue


def _each_row(frame: pd.DataFrame, cat: Catalogue) -> np.ndarray:
    """One hash per row of its assessment columns (not the outcome: a row relabelled is still
    a row the model saw), hashed as text so that the same answers hash the same whatever the
    dtype a reader gave them."""
    # a file-row identifier is where a row stands, not what it holds
    named = [c for c in cat.assessment_columns() if c in frame and not cat.filled_in(c)]
    text = frame[named].astype(str)
    return pd.util.hash_pandas_object(text, index=False).to_numpy(np.uint64)


def row_hashes(frame: pd.DataFrame, cat: Catalogue) -> np.ndarray:
    """Sorted unique row hashes of `frame`."""
    return np.unique(_each_row(frame, cat))


def pack(hashes: np.ndarray) -> str:
    """Hashes as compact text for a JSON file (8 bytes a row, base64)."""
    return base64.b64encode(np.asarray(hashes, dtype="<u8").tobytes()).decode("ascii")


def unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<u8")


def overlap(frame: pd.DataFrame, packed: str, cat: Catalogue) -> int:
    """How many of `frame`'s rows are among the packed rows."""
    return int(np.isin(_each_row(frame, cat), unpack(packed)).sum())
