"""`--engine dask` of `score` and `explain`: the options, progress, and the CLI's errors and
exit codes for a file scored in parts on a Dask cluster (see `inference.cluster`)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scalepredict.cli.common import EXIT_PROBLEMS, fail
from scalepredict.cli.render import err, print_problems
from scalepredict.data.tables import DataFileError, FileLimits
from scalepredict.settings import get_settings

if TYPE_CHECKING:
    from distributed import Client, Future


class Engine(StrEnum):
    local = "local"
    dask = "dask"


EngineOption = Annotated[
    Engine,
    typer.Option(
        help="local: one process, the whole file in memory. dask: a Parquet file in parts on a "
        "Dask cluster (--scheduler, else a LocalCluster on this machine)."
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help="Dask scheduler address (tcp://host:8786) for --engine dask "
        "[default: the dask_scheduler setting, else a LocalCluster]."
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(min=1, help="LocalCluster worker processes [default: the setting, else cores]."),
]
PartRowsOption = Annotated[
    int | None,
    typer.Option(min=1, help="Rows per part [default: the batch_partition_rows setting]."),
]


def watch(futures: list[Future], what: str) -> None:
    """Dask's progress bar in a terminal (on stderr: stdout may carry --json); elsewhere a
    plain line per finished part."""
    from distributed import as_completed, progress, wait

    if sys.stderr.isatty():
        err.print(what)
        with contextlib.redirect_stdout(sys.stderr):
            progress(futures)
        wait(futures)
        return
    for done, _ in enumerate(as_completed(futures), 1):
        err.print(f"{what}: {done}/{len(futures)} parts done", highlight=False)


@contextlib.contextmanager
def cluster(scheduler: str | None, workers: int | None) -> Iterator[Client]:
    """The Dask client to run on, with every batch error turned into the CLI's report and exit
    code: 1 for rows with problems (all of them listed), 2 for anything else."""
    from scalepredict.inference.cluster import BatchError, InvalidBatch, dask_client

    s = get_settings()
    try:
        security = _security(s.dask_security) if (scheduler or s.dask_scheduler) else None
        with dask_client(
            scheduler or s.dask_scheduler, workers or s.dask_workers, security
        ) as client:
            yield client
    except InvalidBatch as e:
        print_problems(e.problems, 50)
        raise fail(f"{e}; fix them first", EXIT_PROBLEMS) from None
    except (BatchError, DataFileError) as e:
        raise fail(str(e)) from None


def _security(path: Path | None) -> Any:
    """The `distributed.Security` of an existing scheduler: its arguments (tls_ca_file,
    tls_client_cert, tls_client_key, require_encryption) from a YAML file; None without one."""
    if path is None:
        return None
    import yaml
    from distributed.security import Security

    try:
        return Security(**(yaml.safe_load(path.read_text()) or {}))
    except (OSError, yaml.YAMLError, TypeError) as e:
        raise fail(f"{path}: not a Dask security file ({type(e).__name__}: {e})") from None


def parquet_input(path: Path) -> Path:
    """The dask engine reads Parquet (parts are row ranges found from its footer)."""
    from scalepredict.data.tables import parquet_rows

    try:
        parquet_rows(path)
    except DataFileError as e:
        raise fail(f"{e}; --engine dask reads Parquet (see Operations: big batches)") from None
    return path


def part_rows(given: int | None) -> int:
    return given or get_settings().batch_partition_rows


def file_limits() -> FileLimits:
    """The settings' bounds on a file, read here and sent with each part's task."""
    return FileLimits.of(get_settings())
