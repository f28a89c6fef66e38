"""The text a Prometheus scrape reads, from one process or from all of them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

#: The ``Content-Type`` of :func:`render_metrics`' body.
METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


class _Scrape:
    """What one scrape collects: the process's (or all processes') metrics and ``extra``."""

    def __init__(self, base: Iterable[Collector], extra: Iterable[Collector]) -> None:
        self._collectors = [*base, *extra]

    def collect(self) -> Iterator[object]:
        for collector in self._collectors:
            yield from collector.collect()


def render_metrics(*extra: Collector) -> bytes:
    """The text exposition of every metric, plus those of ``extra`` collectors.

    With ``PROMETHEUS_MULTIPROC_DIR`` set (several worker processes serve, as prometheus-client
    documents: an empty directory, wiped before the processes start), the values of every
    process are merged from that directory; otherwise those of this process are read.
    ``extra`` collectors (the database pool's) describe this process only.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        base: Iterable[Collector] = [merged]
    else:
        base = [REGISTRY]
    return generate_latest(_Scrape(base, extra))  # type: ignore[arg-type]
