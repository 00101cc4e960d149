"""A big batch scored with explanations: one process against Dask with 1 and 2 workers.

N generated proposals (seeded) are written as one Parquet file (row groups of one part each),
then scored with explanations by `score --engine local` (validate the whole file, score, write
one Parquet file) and by `score --engine dask` (a LocalCluster of single-threaded worker
processes, one task per part). Each engine runs in its own child process, so every peak
memory figure is its own: the local process's peak RSS, and each Dask worker's peak RSS (the
driver's too). Also timed: how the model reaches the workers (`Client.scatter`, the pickled
size) against loading it from its URI in a worker, the alternative. Last, every Dask output is
checked equal, row for row, to the local one. The single process keeps every record in memory
(about 7 GB per 100k rows with explanations), so at 1M rows it scores the first --local-rows
(100k by default), and the Dask outputs' first rows are compared with it.

Usage: python benchmarks/batch.py [--rows 1000000] [--partition-rows 20000]
           [--workers 1 2] [--local-rows 100000] [--model-uri URI] [--dir DIR]
The model: --model-uri (an MLflow URI or a bundle directory), else the registry's champion."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _predictor(uri: str | None):
    from scalepredict.catalogue import load_catalogue
    from scalepredict.settings import get_settings
    from scalepredict.tracking.registry import CHAMPION, load_predictor, model_name, model_uri

    settings = get_settings()
    name = model_name(settings, load_catalogue(settings))
    return load_predictor(uri or model_uri(CHAMPION, name), settings)


def run_local(args: argparse.Namespace) -> dict:
    from scalepredict.data.tables import FileLimits, write_table
    from scalepredict.data.validation import validate_file
    from scalepredict.inference.batch import ScoreOptions, score_frame
    from scalepredict.settings import get_settings

    predictor = _predictor(args.model_uri)
    start = time.perf_counter()
    frame = validate_file(args.input, limits=FileLimits.of(get_settings())).frame
    write_table(score_frame(predictor, frame, ScoreOptions(explain=True)), args.out)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mib": {"process": round(_peak_mib())}}


def run_dask(args: argparse.Namespace) -> dict:
    from distributed import Client, LocalCluster, wait

    from scalepredict.data.tables import FileLimits
    from scalepredict.inference.batch import ScoreOptions
    from scalepredict.inference.cluster import score_file
    from scalepredict.settings import get_settings

    predictor = _predictor(args.model_uri)
    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        t = time.perf_counter()
        client.scatter(predictor, broadcast=True, hash=False)
        scatter_s = time.perf_counter() - t
        load_s = client.run(_load_seconds, args.model_uri)
        start = time.perf_counter()
        rows = score_file(
            client,
            predictor,
            Path(args.input),
            Path(args.out),
            ScoreOptions(explain=True),
            args.partition_rows,
            lambda futures, what: wait(futures),
            limits=FileLimits.of(get_settings()),
        )
        seconds = time.perf_counter() - start
        peaks = client.run(_peak_mib)
    return {
        "seconds": seconds,
        "rows": rows,
        "peak_mib": {"driver": round(_peak_mib())}
        | {f"worker{k}": round(v) for k, v in enumerate(peaks.values())},
        "model_pickle_kib": round(len(pickle.dumps(predictor)) / 1024),
        "scatter_to_all_workers_s": round(scatter_s, 3),
        "load_from_uri_in_a_worker_s": round(max(load_s.values()), 3),
    }


def _load_seconds(uri: str | None) -> float:
    t = time.perf_counter()
    _predictor(uri)
    return time.perf_counter() - t


def _child(engine: str, workers: int, args: argparse.Namespace, inp: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--one", engine, "--input", str(inp), "--out", str(out)]
    cmd += ["--workers", str(workers), "--partition-rows", str(args.partition_rows)]
    cmd += ["--model-uri", args.model_uri] if args.model_uri else []
    load = os.getloadavg()[0]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{engine} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result | {"load_1min_before": round(load, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--partition-rows", type=int, default=20_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--local-rows",
        type=int,
        help="rows the single process scores (the first ones) [default: all, at most 100000: "
        "it holds every record in memory, about 7 GB per 100k rows with explanations]",
    )
    ap.add_argument("--model-uri")
    ap.add_argument("--dir", type=Path, help="keep the files here [default: a temporary one]")
    ap.add_argument("--one", choices=["local", "dask"], help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.local_rows = min(args.local_rows or min(args.rows, 100_000), args.rows)
    if args.one:
        args.workers = args.workers[0]
        print(json.dumps((run_local if args.one == "local" else run_dask)(args)))
        return

    from scalepredict.catalogue import load_catalogue
    from scalepredict.data.synthetic import generate
    from scalepredict.settings import get_settings

    work = args.dir or Path(tempfile.mkdtemp(prefix="batch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    inp = work / f"proposals_{args.rows}.parquet"
    t = time.perf_counter()
    frame = generate(args.rows, seed=20).drop(columns=[load_catalogue(get_settings()).outcome.name])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, inp, row_group_size=args.partition_rows)
    del frame, table
    print(f"{args.rows} proposals generated in {time.perf_counter() - t:.1f} s -> {inp}")
    print(f"machine: {os.cpu_count()} cores; parts of {args.partition_rows} rows")
    local_in = inp
    if args.local_rows < args.rows:  # the single process keeps every record in memory
        local_in = work / f"proposals_first_{args.local_rows}.parquet"
        pq.write_table(pq.read_table(inp).slice(0, args.local_rows), local_in)
    results = {"local": _child("local", 1, args, local_in, work / "local.parquet")}
    results["local"]["rows"] = args.local_rows
    for n in args.workers:
        shutil.rmtree(work / f"dask{n}", ignore_errors=True)  # this script's own last output
        results[f"dask x{n}"] = _child("dask", n, args, inp, work / f"dask{n}")
    want = pd.read_parquet(work / "local.parquet")
    for name, r in results.items():
        r["rows_per_s"] = round(r["rows"] / r["seconds"])
        r["seconds"] = round(r["seconds"], 1)
        if name != "local":
            got = pd.read_parquet(work / f"dask{name.removeprefix('dask x')}")
            assert len(got) == args.rows
            # a row's result does not depend on the other rows: the first rows must match
            got = got.head(args.local_rows)
            pd.testing.assert_frame_equal(got, want)  # raises on any difference
            r["equal_to_local"] = True
        print(f"{name:8s} {json.dumps(r)}")


if __name__ == "__main__":
    main()
