"""Prometheus metrics with bounded labels. BentoML's own instrumentation labels every request
by its raw path, so a stream of random paths grows memory and /metrics without bound; here a
request is counted under the route it matched (a fixed list) or `other`.

With several workers each process counts its own requests: BentoML starts every worker with
`PROMETHEUS_MULTIPROC_DIR` set, so prometheus_client keeps the values in per-process files
there, and /metrics sums every worker's files (whichever worker answers the scrape)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from scalepredict.api.routes import ROUTES

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def route_of(path: str) -> str:
    """The route a path belongs to, or `other` (any number of unknown paths: one label)."""
    if path.startswith("/static/"):
        return "/static"
    return path if path in ROUTES else "other"


PREFIX = "scalepredict_"


class _OursOnly:
    """The workers' files summed, our metrics only (the directory is BentoML's too)."""

    def __init__(self, directory: str) -> None:
        self.files = MultiProcessCollector(None, path=directory)

    def collect(self) -> Iterator[Metric]:
        return (m for m in self.files.collect() if m.name.startswith(PREFIX))


class Metrics:
    """Request counts and latency by route, method and status class."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "scalepredict_requests",
            "HTTP requests answered, by route, method and status class",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "scalepredict_request_seconds",
            "Seconds from request to the end of the response, by route",
            ["route"],
            registry=self.registry,
        )
        self.shed = Counter(
            "scalepredict_shed_requests",
            "Scoring requests refused with 503 because the server was at capacity",
            registry=self.registry,
        )
        self.throttled = Counter(
            "scalepredict_throttled_keys",
            "Requests answered 429: a key that is not valid, from an address past its allowance "
            "of failed key attempts",
            registry=self.registry,
        )

    def observe(self, path: str, method: str, status: int, seconds: float) -> None:
        route = route_of(path)
        method = method if method in METHODS else "OTHER"
        self.requests.labels(route, method, f"{status // 100}xx").inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.scrape)

    @property
    def scrape(self) -> CollectorRegistry:
        """What /metrics shows: every worker's counts in multiprocess mode, else this
        process's registry."""
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory or not os.path.isdir(directory):
            return self.registry
        summed = CollectorRegistry()
        summed.register(_OursOnly(directory))
        return summed
