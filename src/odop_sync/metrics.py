"""Prometheus metrics an operator would page on."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "odop_http_requests_total",
    "HTTP requests by route and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "odop_http_request_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    registry=REGISTRY,
)
BATCH_ROWS = Counter(
    "odop_batch_rows_total", "Batch rows processed by outcome", ["outcome"], registry=REGISTRY
)
JOB_RUNS = Counter(
    "odop_job_runs_total", "Job runs by job kind and result", ["kind", "result"], registry=REGISTRY
)
SYNC_CALLS = Counter(
    "odop_sync_calls_total",
    "Marketplace calls by adapter, operation and outcome (ok, retryable, permanent)",
    ["adapter", "operation", "outcome"],
    registry=REGISTRY,
)
SYNC_ITEMS = Counter(
    "odop_sync_items_total",
    "Listing items pushed or resolved, by adapter and result",
    ["adapter", "result"],
    registry=REGISTRY,
)
