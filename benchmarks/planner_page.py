"""How fast the planner page answers a what-if, as a planner feels it: from changing a factor in
real headless Chromium to the new probability and explanation on screen (including the page's
120 ms coalescing delay), beside the bare /whatif HTTP call from Python (the baseline).
The target: an update within a second.

Needs a registered champion (`make run` or `scalepredict train`) and Debian's Chromium.
Usage: python -m benchmarks.planner_page [--changes 40]"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import httpx
from playwright.sync_api import sync_playwright

from benchmarks.serving import BIN, bench_env, free_port, start

CHROMIUM = os.environ.get("SCALEPREDICT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def summary(label: str, seconds: list[float]) -> float:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[int(len(ms) * 0.9) - 1]
    med = statistics.median(ms)
    print(f"  {label:<44} median {med:7.1f} ms   p90 {p90:7.1f} ms   max {ms[-1]:7.1f} ms")
    return med


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=40)
    args = ap.parse_args()
    from scalepredict.catalogue import load_catalogue
    from scalepredict.settings import get_settings

    cat = load_catalogue(get_settings())
    tmp, env, key = bench_env("sp-page-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(BIN / "bentoml"), "serve", "serving.service:ScalePredict", "--port", str(port)]
    server = start(cmd, env, tmp / "serve.log", f"{url}/readyz")
    example = cat.examples[0].proposal
    factors = cat.factor_names
    changes = [(factors[i % len(factors)], 1 + (i * 3) % 5) for i in range(args.changes)]
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            raw = []
            for f, v in changes:
                t = time.perf_counter()
                r = client.post(f"{url}/whatif", json={"proposal": example, "changes": {f: v}})
                raw.append(time.perf_counter() - t)
                r.raise_for_status()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{url}/")
            page.fill("#api-key", key)
            page.press("#api-key", "Enter")
            page.wait_for_selector("#app:not([hidden])")
            page.click("#load-example")
            t = time.perf_counter()
            page.click("#assess-button")
            page.wait_for_selector("#result-body:not([hidden])")
            assess_s = time.perf_counter() - t
            felt = []
            for f, v in changes:
                label = cat.factor(f).label
                before = example[f]
                if before == v:
                    v = v % 5 + 1
                expected = f"{label} {'unknown' if before is None else before} \u2192 {v}"
                if page.is_visible("#whatif-reset"):  # each change starts from the assessed answers
                    page.click("#whatif-reset")
                t = time.perf_counter()
                page.select_option(f"#f-{f}", str(v))
                page.wait_for_function(
                    "e => document.getElementById('whatif-text').textContent.includes(e)",
                    arg=expected,
                )
                felt.append(time.perf_counter() - t)
            browser.close()
    finally:
        server.terminate()
        server.wait(20)
    print(f"planner page what-if on {url} ({args.changes} changes, example 0, desktop viewport)")
    base = summary("bare POST /whatif (httpx, baseline)", raw)
    page_ms = summary("page: change a factor -> result on screen", felt)
    print(f"  first assessment (score + explanation + plan) on screen: {assess_s * 1000:.0f} ms")
    verdict = "MET" if page_ms < 1000 else "MISSED"
    print(
        f"  page / baseline: x{page_ms / base:.1f} (includes the 120 ms coalescing delay); "
        f"within a second: {verdict}"
    )


if __name__ == "__main__":
    main()
