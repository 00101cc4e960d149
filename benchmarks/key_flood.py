"""A legitimate /score's latency alone and under a flood of random keys, on loopback (every
client one address, as the throttle sees them): one scorer sends 1-proposal requests back to
back while `--flood` clients send random Bearer keys as fast as they can. Run twice by
default: with the default allowance of failed attempts (past it the guesses get 429 without a
lookup) and with an allowance too large to reach (every guess a database lookup, in a worker
thread), so the throttle's part is seen apart from the lookup's move off the event loop.

Trains a small champion in a scratch registry first (as the live tests do). The scorer and
the flood are separate processes from the server and from each other.
Usage: python benchmarks/key_flood.py [--seconds 10] [--flood 64] [--workers 1]"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.serving import BIN, free_port, measure, start  # noqa: E402

UNREACHABLE = 10**9  # an allowance no flood uses up: every guess is looked up


async def flood(url: str, body: bytes, concurrency: int, seconds: float) -> dict:
    """`concurrency` clients, each request with a new random key; the statuses counted."""
    statuses: Counter[str] = Counter()
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one() -> None:
            while time.perf_counter() < stop:
                headers = {
                    "Authorization": f"Bearer sp_{secrets.token_urlsafe(32)}",
                    "content-type": "application/json",
                }
                try:
                    r = await client.post(url, content=body, headers=headers)
                    statuses[str(r.status_code)] += 1
                except httpx.HTTPError as e:
                    statuses[type(e).__name__] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return {"statuses": dict(statuses), "rps": sum(statuses.values()) / wall}


def run(env: dict[str, str], allowance: int, args: argparse.Namespace, body: bytes) -> dict:
    port = free_port()
    server_env = {k: v for k, v in env.items() if not k.startswith("_")}
    server_env["SCALEPREDICT_KEY_FAILURES_ALLOWED"] = str(allowance)
    server_env["SCALEPREDICT_WORKERS"] = str(args.workers)
    root = Path(env["_root"])
    cmd = [str(BIN / "bentoml"), "serve", "serving.service:ScalePredict", "--port", str(port)]
    proc = start(
        cmd, server_env, root / f"serve-{allowance}.log", f"http://127.0.0.1:{port}/readyz"
    )
    url = f"http://127.0.0.1:{port}/score"
    auth = {"Authorization": f"Bearer {env['_scorer']}", "content-type": "application/json"}
    try:
        measure(url, body, auth, 1, 2)  # warm: the first scorings load the explainer
        alone = measure(url, body, auth, 1, args.seconds)
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            f.write(body)
        spec = json.dumps({"url": url, "body": f.name})
        flooder = subprocess.Popen(
            [sys.executable, __file__, "--flooder", spec, str(args.flood), str(args.seconds + 2)],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1)  # the flood running before the scorer starts
        during = measure(url, body, auth, 1, args.seconds)
        flooded = json.loads(flooder.communicate(timeout=args.seconds + 60)[0])
        Path(f.name).unlink()
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"alone": alone, "during": during, "flood": flooded}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--flood", type=int, default=64, help="concurrent random-key clients")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--flooder", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.flooder:
        spec, concurrency, seconds = json.loads(args.flooder[0]), *args.flooder[1:]
        body = Path(spec["body"]).read_bytes()
        print(json.dumps(asyncio.run(flood(spec["url"], body, int(concurrency), float(seconds)))))
        return
    from scalepredict.settings import Settings
    from tests.e2e.live_server import proposals_json, trained_service_env

    env = trained_service_env(Path(tempfile.mkdtemp(prefix="sp-key-flood-")))
    body = json.dumps({"proposals": proposals_json(1)}).encode()
    default = Settings().key_failures_allowed
    print(f"/score with 1 proposal, 1 scorer; flood: {args.flood} clients with random keys")
    print(
        f"{'allowance':>12} {'alone p50':>10} {'flood p50':>10} {'ratio':>6} "
        f"{'alone p99':>10} {'flood p99':>10}  flood answers"
    )
    for allowance in (default, UNREACHABLE):
        r = run(env, allowance, args, body)
        a, d = r["alone"], r["during"]
        print(
            f"{allowance if allowance != UNREACHABLE else 'unreachable':>12} "
            f"{a['p50_ms']:>8.1f}ms {d['p50_ms']:>8.1f}ms {d['p50_ms'] / a['p50_ms']:>5.2f}x "
            f"{a['p99_ms']:>8.1f}ms {d['p99_ms']:>8.1f}ms  "
            f"{r['flood']['rps']:.0f}/s {r['flood']['statuses']}; scorer errors "
            f"{a['errors']} alone, {d['errors']} during ({d['error_kinds'] or 'none'})",
            flush=True,
        )


if __name__ == "__main__":
    main()
