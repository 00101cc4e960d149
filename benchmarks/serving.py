"""Serving speed on loopback: /score (with explanations and plan) for 1 and 100 proposals at
concurrency 1, 16 and 32, beside (a) a trivial BentoML endpoint returning a constant (the
framework's floor) and (b) `mlflow models serve --env-manager local` on the same champion
(plain probabilities). Then a bounded load run (default 60 s at concurrency 32) that must end
with zero errors and an audit row for every proposal answered 200.

Needs a registered champion (`make run` or `scalepredict train`). The load generator is an
asyncio httpx client in a separate process (`--generator`), on the same cores as the servers.
`--profile FILE` also records /score with py-spy (collapsed stacks, every worker process);
`--profile-bare` records it without explanation and plan (the HTTP layer and the audit).
Usage: python benchmarks/serving.py [--seconds 8] [--load-seconds 60] [--load-concurrency 32]
       [--profile /tmp/score.folded [--profile-bare]]"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    cmd: list[str], env: dict, log: Path, ready_url: str, timeout: float = 180
) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(ready_url, timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise TimeoutError(f"{cmd} not ready: {log.read_text()[-2000:]}")


async def load(url: str, body: bytes, headers: dict, concurrency: int, seconds: float) -> dict:
    """Closed-loop load: `concurrency` clients send back-to-back requests for `seconds`."""
    latencies: list[float] = []
    errors = 0
    kinds: Counter[str] = Counter()  # what each error was: a status, or the client's exception
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                t = time.perf_counter()
                try:
                    r = await client.post(url, content=body, headers=headers)
                    ok = r.status_code == 200
                    if not ok:
                        kinds[str(r.status_code)] += 1
                except httpx.HTTPError as e:
                    ok = False
                    kinds[type(e).__name__] += 1
                latencies.append(time.perf_counter() - t)
                errors += not ok

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "error_kinds": dict(kinds),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "rps": len(latencies) / wall,
        "ok_rps": (len(latencies) - errors) / wall,  # answers with 200 only
    }


def measure(url: str, body: bytes, headers: dict, concurrency: int, seconds: float) -> dict:
    """`load` run by a separate process (the generator must not share the servers' GIL)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        f.write(body)
    spec = json.dumps({"url": url, "body": f.name, "headers": headers})
    out = subprocess.run(
        [sys.executable, __file__, "--generator", spec, str(concurrency), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    Path(f.name).unlink()
    return json.loads(out.stdout)


def generator(spec: str, concurrency: int, seconds: float) -> None:
    s = json.loads(spec)
    body = Path(s["body"]).read_bytes()
    print(json.dumps(asyncio.run(load(s["url"], body, s["headers"], concurrency, seconds))))


def profile(url: str, body: bytes, headers: dict, server: subprocess.Popen, out: Path) -> None:
    """py-spy on every process of the server while the generator loads /score."""
    spy = subprocess.Popen(
        [
            str(BIN / "py-spy"),
            "record",
            "--pid",
            str(server.pid),
            "--subprocesses",
            "--rate",
            "200",
            "--duration",
            "20",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    time.sleep(1)
    measure(url, body, headers, 1, 18)
    spy.wait(60)
    print(f"profile: {out} (collapsed stacks; summarize with benchmarks/profile_summary.py)")


def bench_env(prefix: str) -> tuple[Path, dict[str, str], str]:
    """A scratch directory, the server environment (keys, audit and cache there; the champion
    from this checkout's registry) and a scorer key for it."""
    from scalepredict.settings import Settings, get_settings
    from scalepredict.store.keys import add_key

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = {
        "SCALEPREDICT_KEYS_FILE": str(tmp / "keys.json"),
        "SCALEPREDICT_DATABASE_URL": f"sqlite:///{tmp}/scalepredict.db",
        "SCALEPREDICT_MODEL_CACHE": str(tmp / "cache"),
        "BENTOML_HOME": str(tmp / "bentoml"),
        "MLFLOW_TRACKING_URI": get_settings().tracking_uri,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # mlflow runs uvicorn
    }
    store = Settings(database_url=env["SCALEPREDICT_DATABASE_URL"])
    return tmp, env, add_key("bench", "scorer", store)


def proposals(n: int) -> list[dict]:
    from scalepredict.data.synthetic import generate

    rows = generate(n, seed=77).drop(columns="scaled_up")
    rows["assessed_on"] = rows["assessed_on"].dt.strftime("%Y-%m-%d")
    return json.loads(rows.to_json(orient="records"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--load-seconds", type=float, default=60)
    ap.add_argument("--load-concurrency", type=int, default=32)
    ap.add_argument("--load-proposals", type=int, default=5)
    ap.add_argument("--profile", type=Path, help="write a py-spy profile of /score here")
    ap.add_argument(
        "--profile-bare",
        action="store_true",
        help="profile /score without explanation and plan (the HTTP layer and audit)",
    )
    ap.add_argument("--generator", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generator:
        generator(args.generator[0], int(args.generator[1]), float(args.generator[2]))
        return
    from scalepredict.settings import Settings
    from scalepredict.store.audit import AuditLog

    tmp, env, key = bench_env("sp-bench-")
    auth = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    ports = {k: free_port() for k in ("ours", "trivial", "mlflow")}
    procs = []
    try:
        procs.append(
            start(
                [
                    str(BIN / "bentoml"),
                    "serve",
                    "serving.service:ScalePredict",
                    "--port",
                    str(ports["ours"]),
                ],
                env,
                tmp / "ours.log",
                f"http://127.0.0.1:{ports['ours']}/readyz",
            )
        )
        procs.append(
            start(
                [
                    str(BIN / "bentoml"),
                    "serve",
                    "benchmarks.trivial_service:Trivial",
                    "--port",
                    str(ports["trivial"]),
                ],
                env,
                tmp / "trivial.log",
                f"http://127.0.0.1:{ports['trivial']}/readyz",
            )
        )
        procs.append(
            start(
                [
                    str(BIN / "mlflow"),
                    "models",
                    "serve",
                    "-m",
                    "models:/scalepredict@champion",
                    "--env-manager",
                    "local",
                    "-p",
                    str(ports["mlflow"]),
                    "--host",
                    "127.0.0.1",
                ],
                env,
                tmp / "mlflow.log",
                f"http://127.0.0.1:{ports['mlflow']}/ping",
            )
        )
        one, hundred = proposals(1), proposals(100)
        from scalepredict.catalogue import load_catalogue
        from scalepredict.settings import get_settings

        cols = load_catalogue(get_settings()).assessment_columns()

        def split(ps: list[dict]) -> bytes:  # MLflow's dataframe_split request body
            data = [[p[c] for c in cols] for p in ps]
            return json.dumps({"dataframe_split": {"columns": cols, "data": data}}).encode()

        cases = [
            (
                "trivial BentoML constant (floor)",
                f"http://127.0.0.1:{ports['trivial']}/constant",
                b"{}",
                {"content-type": "application/json"},
                1,
            ),
            (
                "/score 1 proposal (explain+plan)",
                f"http://127.0.0.1:{ports['ours']}/score",
                json.dumps({"proposals": one}).encode(),
                auth,
                1,
            ),
            (
                "/score 1 proposal (probability only)",
                f"http://127.0.0.1:{ports['ours']}/score?explain=false&plan=false",
                json.dumps({"proposals": one}).encode(),
                auth,
                1,
            ),
            (
                "/score 100 proposals",
                f"http://127.0.0.1:{ports['ours']}/score",
                json.dumps({"proposals": hundred}).encode(),
                auth,
                100,
            ),
            (
                "mlflow serve 1 row (probability)",
                f"http://127.0.0.1:{ports['mlflow']}/invocations",
                split(one),
                {"content-type": "application/json"},
                1,
            ),
            (
                "mlflow serve 100 rows",
                f"http://127.0.0.1:{ports['mlflow']}/invocations",
                split(hundred),
                {"content-type": "application/json"},
                100,
            ),
        ]
        results = {}
        print(
            f"{'case':<36} {'conc':>4} {'req':>6} {'err':>4} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'req/s':>8} {'proposals/s':>11}"  # proposals/s: in 200 answers
        )
        for name, url, body, headers, n in cases:
            for conc in (1, 16, 32):
                r = measure(url, body, headers, conc, args.seconds)
                results[(name, conc)] = r
                print(
                    f"{name:<36} {conc:>4} {r['requests']:>6} {r['errors']:>4} {r['p50_ms']:8.1f} "
                    f"{r['p99_ms']:8.1f} {r['rps']:8.1f} {r['ok_rps'] * n:11.0f}"
                    + (f"  errors: {r['error_kinds']}" if r.get("error_kinds") else "")
                )
        floor = results[(cases[0][0], 1)]["p50_ms"]
        single = results[(cases[1][0], 1)]["p50_ms"]
        best_100 = max(results[(cases[3][0], c)]["ok_rps"] * 100 for c in (1, 16, 32))
        mlflow_1 = results[(cases[4][0], 1)]["p50_ms"]
        print(
            f"\n/score 1 proposal p50 / floor p50 = {single / floor:.1f}x (target <= 3x); "
            f"/ mlflow serve 1 row = {single / mlflow_1:.1f}x"
        )
        bare = results[(cases[2][0], 1)]["p50_ms"]
        print(
            f"/score 1 proposal without explanation and plan p50 / floor p50 = "
            f"{bare / floor:.1f}x (the HTTP layer, audit and a probability)"
        )
        print(f"proposals/s in 100-proposal requests: {best_100:,.0f} (target >= 1,000)")

        if args.load_seconds > 0:
            audit = AuditLog(Settings(database_url=env["SCALEPREDICT_DATABASE_URL"]))
            before = audit.count()
            body = json.dumps({"proposals": proposals(args.load_proposals)}).encode()
            r = measure(
                f"http://127.0.0.1:{ports['ours']}/score",
                body,
                auth,
                args.load_concurrency,
                args.load_seconds,
            )
            scored = (r["requests"] - r["errors"]) * args.load_proposals
            stored = audit.count() - before
            print(
                f"\nload: {args.load_seconds:.0f} s at concurrency {args.load_concurrency}, "
                f"{args.load_proposals} proposals per request: {r['requests']} requests, "
                f"{r['errors']} errors {r['error_kinds'] or ''}, "
                f"p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
                f"{r['rps']:.1f} req/s; audit rows {stored} for {scored} proposals scored "
                f"({'complete' if stored == scored else 'INCOMPLETE'})"
            )
        if args.profile:
            _, url, body, headers, _ = cases[2 if args.profile_bare else 1]
            profile(url, body, headers, procs[0], args.profile)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
