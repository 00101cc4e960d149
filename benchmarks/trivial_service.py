"""The framework's floor for benchmarks/serving.py: a BentoML endpoint returning a constant."""

import bentoml


@bentoml.service(workers=1, threads=8)
class Trivial:
    @bentoml.api
    def constant(self) -> dict:
        return {"probability": 0.5}
