"""The API's Prometheus metrics, served at ``/metrics``."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from graphql_api.cache import ResponseCache

__all__ = ["ApiMetrics"]


class _CacheCollector(Collector):
    """The response cache's own hit and miss counts, read when scraped."""

    def __init__(self, cache: ResponseCache) -> None:
        self._cache = cache

    def collect(self) -> Iterator[CounterMetricFamily]:
        """Yield the counts as one counter family with a ``result`` label."""
        family = CounterMetricFamily(
            "procmon_api_cache_lookups", "Response cache lookups, by result.", labels=["result"]
        )
        family.add_metric(["hit"], self._cache.hits)
        family.add_metric(["miss"], self._cache.misses)
        yield family


class ApiMetrics:
    """Requests, their latency, GraphQL errors and cache lookups, in a registry of their own."""

    def __init__(self, cache: ResponseCache) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "procmon_api_requests", "GraphQL operations answered.", registry=self.registry
        )
        self.errors = Counter(
            "procmon_api_errors",
            "GraphQL operations answered with errors, by whose fault.",
            ["kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "procmon_api_request_seconds",
            "Time to answer one GraphQL operation.",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.registry.register(_CacheCollector(cache))
