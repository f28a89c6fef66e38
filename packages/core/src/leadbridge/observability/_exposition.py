"""The text a Prometheus scrape reads, from one process or from all of them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

#: The ``Content-Type`` of :func:`render_metrics`' body.
METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


class MetricsScrape(Collector):
    """What one scrape collects: this process's metrics (every process's, merged, with
    ``PROMETHEUS_MULTIPROC_DIR``) and the collectors ``extra()`` returns at that moment."""

    def __init__(self, extra: Callable[[], Iterable[Collector]] = tuple) -> None:
        self._extra = extra

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            base: Collector = merged
        else:
            base = REGISTRY
        for collector in (base, *self._extra()):
            yield from collector.collect()


def render_metrics(*extra: Collector) -> bytes:
    """The text exposition of every metric, plus those of ``extra`` collectors.

    With ``PROMETHEUS_MULTIPROC_DIR`` set (several worker processes serve, as prometheus-client
    documents: an empty directory, wiped before the processes start), the values of every
    process are merged from that directory; otherwise those of this process are read.
    ``extra`` collectors (the database pool's, the job queue's) are added as they are.
    """
    return generate_latest(MetricsScrape(lambda: extra))
