"""Prometheus metrics: what each worker counts, and the text `GET /metrics` serves.

With several worker processes in one container (uvicorn --workers), set
PROMETHEUS_MULTIPROC_DIR to an empty directory shared by them (scripts/prod-start.sh
does): each process writes its samples to its own files there and any worker's
/metrics adds them all up (prometheus-client's multiprocess mode), so a scrape gives
one consistent total whichever worker answers it. Without it, a worker reports its own.
Several containers: scrape each one (each is its own target); sum in PromQL.

Recording a sample is a few hundred nanoseconds in this process (a file-backed value
in multiprocess mode): nothing here waits on the network.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import REGISTRY

from config.env import env_str

# First text within a second is the goal; a slow provider shows up in the top buckets.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60)
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

TURNS = Counter("chatkit_turns", "Model turns by how they ended", ["outcome"])
FIRST_TOKEN = Histogram(
    "chatkit_first_token_seconds",
    "From a turn's start to its first streamed text",
    buckets=LATENCY_BUCKETS,
)
TURN_DURATION = Histogram(
    "chatkit_turn_duration_seconds", "A turn's model run, start to end", buckets=LATENCY_BUCKETS
)
MODEL_TOKENS = Counter(
    "chatkit_model_tokens",
    "Model tokens by kind (input, cached_input, output, reasoning); offline ones estimated",
    ["kind"],
)
MODEL_ERRORS = Counter("chatkit_model_errors", "Failed turns by error kind", ["kind"])
REFUSALS = Counter(
    "chatkit_refusals", "Turns refused before the stream, by limit (rate_limit, quota)", ["reason"]
)
# Live gauges: the sum over the processes alive now.
ACTIVE_STREAMS = Gauge(
    "chatkit_active_streams", "Open /chatkit event streams", multiprocess_mode="livesum"
)
ACTIVE_RUNS = Gauge("chatkit_active_runs", "Agent runs in progress", multiprocess_mode="livesum")
WS_CONNECTIONS = Gauge(
    "chatkit_ws_connections", "Open /ws/todos/ websockets", multiprocess_mode="livesum"
)
DB_POOL_WAIT = Histogram(
    "chatkit_db_pool_wait_seconds",
    "Waits for a free connection of the async database pool (only calls that had to wait)",
    buckets=WAIT_BUCKETS,
)


def multiprocess_dir() -> str | None:
    # prometheus_client reads it too; scripts/web-worker.sh sets it for uvicorn workers.
    return env_str("PROMETHEUS_MULTIPROC_DIR")


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, summed over the container's workers."""
    if multiprocess_dir() is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def turn_observed(
    *,
    outcome: str,
    error_kind: str,
    first_token_seconds: float | None,
    total_seconds: float,
    tokens: dict[str, int],
) -> None:
    TURNS.labels(outcome=outcome).inc()
    if outcome == "refused":
        REFUSALS.labels(reason=error_kind).inc()
        return
    if outcome == "failed":
        MODEL_ERRORS.labels(kind=error_kind or "internal").inc()
    if first_token_seconds is not None:
        FIRST_TOKEN.observe(first_token_seconds)
    TURN_DURATION.observe(total_seconds)
    for kind, count in tokens.items():
        if count:
            MODEL_TOKENS.labels(kind=kind).inc(count)


def refused(reason: str) -> None:
    """A turn refused before the stream without a usage row (the rate limit)."""
    TURNS.labels(outcome="refused").inc()
    REFUSALS.labels(reason=reason).inc()
