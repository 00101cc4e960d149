"""Worker processes of the scoring API: 100-proposal /score requests (explanations and plans)
against `bentoml serve` with 1 and with 2 workers (the workers setting), one after the other on
the same machine, each run ending with a check that the audit holds a row for every proposal
answered 200.

Needs a registered champion (`make run` or `scalepredict train`); the load generator is the one
of benchmarks/serving.py, in a separate process.
Usage: python benchmarks/workers.py [--seconds 20] [--concurrency 4] [--workers 1 2]"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.serving import BIN, bench_env, free_port, measure, proposals, start


def run(workers: int, body: bytes, seconds: float, concurrency: int) -> str:
    from scalepredict.settings import Settings
    from scalepredict.store.audit import AuditLog

    tmp, env, key = bench_env(f"sp-workers{workers}-")
    env["SCALEPREDICT_WORKERS"] = str(workers)
    port = free_port()
    cmd = [str(BIN / "bentoml"), "serve", "serving.service:ScalePredict", "--port", str(port)]
    proc = start(cmd, env, tmp / "serve.log", f"http://127.0.0.1:{port}/readyz")
    try:
        auth = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
        url = f"http://127.0.0.1:{port}/score"
        measure(url, body, auth, workers, 3)  # every worker past its first request
        audit = AuditLog(Settings(database_url=env["SCALEPREDICT_DATABASE_URL"]))
        before = audit.count()
        r = measure(url, body, auth, concurrency, seconds)
        stored, scored = audit.count() - before, (r["requests"] - r["errors"]) * 100
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return (
        f"workers {workers}: {r['requests']} requests, {r['errors']} errors "
        f"{r['error_kinds'] or ''}, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
        f"{r['ok_rps'] * 100:.0f} proposals/s; audit rows {stored} for {scored} proposals "
        f"({'complete' if stored == scored else 'INCOMPLETE'})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    body = json.dumps({"proposals": proposals(100)}).encode()
    for n in args.workers:
        print(run(n, body, args.seconds, args.concurrency), flush=True)


if __name__ == "__main__":
    main()
