"""A big Parquet file scored or explained on a Dask cluster: a `LocalCluster` of worker
processes on this machine, or the workers of an existing scheduler.

Two rounds of tasks, one per part each (`batch.py`): every part is validated first, and only
a file without problems is scored, so a bad row at the end never costs a run of the rest. The
model reaches each worker once (`Client.scatter(..., broadcast=True)`; a few hundred kB), not
once per task, and workers need no access to the registry. Dask reschedules the tasks of a
worker that dies (a `LocalCluster`'s nanny starts a new one); a part whose workers die more
often than `distributed.scheduler.allowed-failures` fails the run with a message.

Output: the parts are written into a hidden staging directory beside DIR; `_SUCCESS` is written
last and the directory is then renamed to DIR. A failed or interrupted run leaves no DIR (a
`.DIR.partial-*` directory at most, without `_SUCCESS`). With a remote scheduler, DIR and the
input must be on a file system every worker sees under the same path."""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from scalepredict.catalogue import Catalogue
from scalepredict.data.tables import FileLimits, parquet_rows, read_parquet_rows
from scalepredict.data.validation import validate_table
from scalepredict.inference.batch import (
    Part,
    PartCheck,
    ScoreOptions,
    check_part,
    importance_part,
    merge_problems,
    score_part,
    split_rows,
)
from scalepredict.inference.explain import add_importance_sums, importance_means
from scalepredict.inference.predictor import Predictor

if TYPE_CHECKING:
    from distributed import Client, Future

SUCCESS = "_SUCCESS"
# Shows progress while it waits for every future to finish: (futures, what they do).
Watch = Callable[[list["Future"], str], None]


class BatchError(RuntimeError):
    """The run cannot go on or did not finish; the message is for a person."""


class InvalidBatch(ValueError):
    """Rows of the file broke the catalogue's rules; `problems` lists them (rows of the file)."""

    def __init__(self, path: Path, problems: pd.DataFrame) -> None:
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)")


@contextmanager
def dask_client(
    scheduler: str | None, workers: int | None, security: Any = None
) -> Iterator[Client]:
    """A client of the scheduler at `scheduler` (with `security`, a `distributed.Security`,
    if given), else of a new `LocalCluster` with `workers` single-threaded worker processes
    (default: one per core), closed on exit. The LocalCluster speaks TLS with a temporary
    certificate only this process holds: no other local user can connect to it or run code
    in its workers."""
    from distributed import Client, LocalCluster
    from distributed.security import Security

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s", security=security)
        except OSError as e:
            raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,  # a replaced worker is retried; a failure is reported
            protocol="tls",
            security=Security.temporary(),
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _gather(
    client: Client, futures: list[Future], parts: list[Part], watch: Watch, what: str
) -> list[Any]:
    from distributed import KilledWorker, wait

    watch(futures, what)
    # A part already reported done is run again when the worker holding its result dies: the
    # progress watch has seen it finish once, so wait until every part is settled again.
    wait(futures)
    erred = [(f, p) for f, p in zip(futures, parts, strict=True) if f.status == "error"]
    unfinished = [(f, p) for f, p in zip(futures, parts, strict=True) if f.status != "finished"]
    if erred or unfinished:
        future, part = (erred or unfinished)[0]
        rows = f"rows {part.start + 1}..{part.stop}"
        status = future.status
        problem = future.exception() if status == "error" else None
        client.cancel(futures)
        if isinstance(problem, KilledWorker):
            raise BatchError(
                f"{what}: Dask workers died running {rows} more often than Dask retries a part "
                "(distributed.scheduler.allowed-failures; out of memory? see the worker logs); "
                "nothing was written"
            )
        if problem is not None:
            raise BatchError(f"{what} {rows} failed: {type(problem).__name__}: {problem}")
        raise BatchError(f"{what} {rows} did not finish ({status}); nothing was written")
    return client.gather(futures)


def _prepare(
    path: Path, cat: Catalogue, per_part: int, limits: FileLimits
) -> tuple[bool, list[Part]]:
    """The parts of the file, and whether it holds outcomes; a file whose columns do not fit
    the catalogue is refused here, in one line, before any task runs."""
    labelled = validate_table(read_parquet_rows(path, 0, 1, limits), None, cat).labelled
    return labelled, split_rows(parquet_rows(path), per_part)


def validate_parts(
    client: Client, path: Path, cat: Catalogue, per_part: int, watch: Watch, limits: FileLimits
) -> tuple[bool, list[Part]]:
    """Validate every part on the cluster; `InvalidBatch` with every problem if any. The
    tasks read with the caller's `limits`, whatever the workers' environment says."""
    labelled, parts = _prepare(path, cat, per_part, limits)
    futures = [client.submit(check_part, path, p, cat, labelled, limits, pure=False) for p in parts]
    checks: list[PartCheck] = _gather(client, futures, parts, watch, "validating")
    problems = merge_problems(checks, cat)
    if not problems.empty:
        raise InvalidBatch(path, problems)
    return labelled, parts


def _staging(out: Path) -> Path:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BatchError(f"{out} exists and is not an empty directory; nothing is overwritten")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    return staging


def score_file(
    client: Client,
    predictor: Predictor,
    path: Path,
    out: Path,
    options: ScoreOptions,
    per_part: int,
    watch: Watch,
    *,
    limits: FileLimits,
) -> int:
    """Score `path` into the directory `out` (Parquet parts + `_SUCCESS`); the rows written."""
    path, out = path.resolve(), out.resolve()
    staging = _staging(out)
    try:
        cat = predictor.bundle.catalogue
        labelled, parts = validate_parts(client, path, cat, per_part, watch, limits)
        model = client.scatter(predictor, broadcast=True, hash=False)
        futures = [
            client.submit(
                score_part, model, path, p, labelled, options, staging, limits, pure=False
            )
            for p in parts
        ]
        rows = sum(_gather(client, futures, parts, watch, "scoring"))
        (staging / SUCCESS).write_text(
            json.dumps({"rows": rows, "parts": len(parts), "input": str(path), **_model(predictor)})
        )
        if out.exists():
            out.rmdir()  # empty, checked above
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return rows


def _model(predictor: Predictor) -> dict[str, Any]:
    return {"model": {k: str(v) for k, v in predictor.info.items() if k in ("uri", "version")}}


def importance_file(
    client: Client,
    predictor: Predictor,
    path: Path,
    per_part: int,
    watch: Watch,
    *,
    limits: FileLimits,
) -> dict[str, dict]:
    """Mean |SHAP| per dimension and factor by stage over the whole file, as
    `Predictor.importance` gives for it in one process."""
    path = path.resolve()
    cat = predictor.bundle.catalogue
    labelled, parts = validate_parts(client, path, cat, per_part, watch, limits)
    model = client.scatter(predictor, broadcast=True, hash=False)
    futures = [
        client.submit(importance_part, model, path, p, labelled, limits, pure=False) for p in parts
    ]
    sums: dict[str, dict] = {}
    for part_sums in _gather(client, futures, parts, watch, "explaining"):
        sums = add_importance_sums(sums, part_sums)
    return importance_means(sums, predictor.bundle.catalogue.booster_keys)
