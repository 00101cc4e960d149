"""Time from `scalepredict serve` to a ready service (/readyz answers 200), on a warm machine
(the files already in the page cache: one untimed start first), against an existing champion.

Needs a registered champion in the tracking store the settings name (MLFLOW_TRACKING_URI).
Usage: python benchmarks/startup.py [--runs 3]"""

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
    cmd = [sys.executable, "-m", "scalepredict.cli", "serve", "--port", str(port)]
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
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
    args = ap.parse_args()
    _, env, _ = bench_env("sp-startup-")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    time_to_ready(env)  # warm the page cache (and the model cache)
    times = [time_to_ready(env) for _ in range(args.runs)]
    print(
        "scalepredict serve -> /readyz 200: "
        + ", ".join(f"{t:.1f}" for t in times)
        + f" s (best {min(times):.1f} s; load {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
