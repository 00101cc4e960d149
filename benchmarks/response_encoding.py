"""The /score answer's last step, before and after: FastAPI's response-model validation and
`json` (before) against the answer as built, written by orjson (after), on real results of the
champion for 1 and 100 proposals. In process, no server.

Needs a registered champion. Usage: python benchmarks/response_encoding.py [--repeat 200]"""

from __future__ import annotations

import argparse
import json
import time

from pydantic import TypeAdapter

from scalepredict.api.errors import SafeJSONResponse
from scalepredict.api.schemas import ScoreResponse
from scalepredict.data.synthetic import generate
from scalepredict.settings import get_settings
from scalepredict.tracking.registry import load_predictor


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    predictor = load_predictor("models:/scalepredict@champion", get_settings())
    adapter = TypeAdapter(ScoreResponse)
    for n in (1, 100):
        rows = generate(n, seed=77).drop(columns="scaled_up")
        results = predictor.assess(rows)
        model = {"name": "scalepredict", "version": "1", "source": "registry"}
        raw = {"request_id": "r", "model": model, "results": results}
        t = time.perf_counter()
        for _ in range(args.repeat):
            content = adapter.dump_python(adapter.validate_python(raw), mode="json", by_alias=True)
            old = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        old_ms = (time.perf_counter() - t) / args.repeat * 1000
        t = time.perf_counter()
        for _ in range(args.repeat):
            new = SafeJSONResponse(raw).body
        new_ms = (time.perf_counter() - t) / args.repeat * 1000
        assert json.loads(old) == json.loads(new)
        print(
            f"{n:>3} proposal(s): validate + json {old_ms:7.2f} ms; orjson as built "
            f"{new_ms:6.2f} ms ({old_ms / new_ms:.0f}x)"
        )


if __name__ == "__main__":
    main()
