"""Time from `scalepredict serve` to a ready service (/readyz answers 200), on a warm machine
(the files already in the page cache: one untimed start first), against an existing champion.

`--src DIR` also times another checkout's package (e.g. `/work/main/src`, before a change),
alternating with this one, so that both meet the same machine load.
Needs a registered champion in the tracking store the settings name (MLFLOW_TRACKING_URI).
Usage: python benchmarks/startup.py [--runs 3] [--src OTHER/src]"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.serving import ROOT, bench_env, free_port


def time_to_ready(env: dict[str, str], timeout: float = 180) -> float:
    """Seconds from `scalepredict serve` to /readyz 200."""
    from scalepredict.cli.serve import stop_tree

    port = free_port()
    serve = "from scalepredict.cli import app; app()"
    cmd = [sys.executable, "-c", serve, "serve", "--port", str(port)]
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=Path(env["PYTHONPATH"].split(os.pathsep)[0]).parent,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - t < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    return time.perf_counter() - t
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError("not ready")
    finally:
        stop_tree(proc.pid)
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--src", type=Path, action="append", default=[], help="another package tree")
    args = ap.parse_args()
    _, env, _ = bench_env("sp-startup-")
    trees = [ROOT / "src", *(p.resolve() for p in args.src)]
    envs = {  # each tree its own model cache: their cache formats may differ
        str(t): {
            **env,
            "PYTHONPATH": os.pathsep.join([str(t), os.environ.get("PYTHONPATH", "")]),
            "SCALEPREDICT_MODEL_CACHE": f"{env['SCALEPREDICT_MODEL_CACHE']}-{i}",
        }
        for i, t in enumerate(trees)
    }
    times: dict[str, list[float]] = {t: [] for t in envs}
    for e in envs.values():
        time_to_ready(e)  # warm the page cache (and the model cache)
    for _ in range(args.runs):
        for t, e in envs.items():
            times[t].append(time_to_ready(e))
    for t, ts in times.items():
        print(
            f"{t}: scalepredict serve -> /readyz 200: "
            + ", ".join(f"{x:.1f}" for x in ts)
            + f" s (best {min(ts):.1f} s)"
        )
    print(f"load {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
