"""What checking an API key costs per request: a lookup in the database every request
(`key_cache_seconds=0`) against the default cache (1 s), on SQLite and on a throwaway
PostgreSQL cluster (Debian's package, as the tests start it), for a known and an unknown key.

Usage: python benchmarks/key_lookup.py [--n 2000]"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scalepredict.settings import Settings  # noqa: E402
from scalepredict.store.keys import KeyStore, add_key  # noqa: E402
from tests.postgres import binaries, running  # noqa: E402


def per_call_us(store: KeyStore, token: str, n: int) -> tuple[float, float]:
    """(median, 95th percentile) microseconds of one identify()."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        store.identify(token)
        times.append((time.perf_counter() - t0) * 1e6)
    times.sort()
    return statistics.median(times), times[int(0.95 * len(times))]


def measure(url: str, n: int) -> None:
    settings = Settings(database_url=url)
    key = add_key("bench", "scorer", settings)
    for ttl in (0.0, 1.0):
        store = KeyStore(settings, ttl=ttl)
        for label, token in (("known", key), ("unknown", "sp_nope")):
            store.identify(token)  # connect and warm the pool first
            med, p95 = per_call_us(store, token, n)
            print(
                f"{url.split(':')[0]:<22} ttl={ttl:<4} {label:<8} "
                f"median {med:8.1f} us   p95 {p95:8.1f} us"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SCALEPREDICT_KEYS_FILE"] = f"{tmp}/none.json"
        measure(f"sqlite:///{tmp}/bench.db", args.n)
        bindir = binaries()
        if bindir is None:
            print("PostgreSQL not installed: `make postgres`")
            return
        with running(bindir) as pg:
            measure(pg.new_database(), args.n)


if __name__ == "__main__":
    main()
