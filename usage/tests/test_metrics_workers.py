"""/metrics from a real multi-worker server: two uvicorn workers report one total
(prometheus-client's multiprocess mode), and a real Prometheus scrapes it and answers
a PromQL query with the turn count."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.tests.servers import (
    ServerProcess,
    free_port,
    post_chatkit,
    start_server,
    stop_process,
    user_input,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TOKEN = "metrics-workers-token-0123456789"
TURNS = 12


def answered_turns(server: ServerProcess) -> float:
    # A fresh connection per scrape: whichever worker accepts it answers.
    response = httpx.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert response.status_code == HTTPStatus.OK, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "chatkit_turns_total" and sample.labels == {"outcome": "answered"}:
                return sample.value
    return 0.0


@pytest.fixture
def two_worker_server(server_env, tmp_path) -> ServerProcess:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host",
               "127.0.0.1", "--port", str(port), "--workers", "2", "--no-access-log"]  # fmt: skip
    env = {**server_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "METRICS_TOKEN": TOKEN}
    server = start_server(env=env, log_dir=tmp_path, command=command, port=port, server="uvicorn")
    # /healthz answered means one worker is up; uvicorn logs this line per worker once
    # it has loaded the app. Polling a starting process, bounded.
    deadline = time.monotonic() + 90
    while server.log().count("Started server process") < 2:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    yield server
    server.stop()


def prometheus_binary() -> str | None:
    found = shutil.which("prometheus")
    if found is None and os.environ.get("CI"):
        pytest.fail("prometheus is not installed (CI must install Debian's prometheus package)")
    return found


def test_two_workers_report_one_total_and_prometheus_scrapes_it(
    two_worker_server, user, token_for, tmp_path
):
    server = two_worker_server
    token = token_for(user)
    payload = {"type": "threads.create", "params": {"input": user_input("add tea")}}
    counters: list[Path] = []
    sent = 0
    # The kernel hands each connection to whichever worker accepts first: send rounds of
    # concurrent turns until both workers have answered some (each keeps its own file).
    while len(counters) < 2:
        assert sent < TURNS * 5, f"one worker answered all {sent} turns: {counters}"
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(
                pool.map(lambda _: post_chatkit(server, token, payload).status_code, range(TURNS))
            )
        assert statuses == [HTTPStatus.OK] * TURNS
        sent += TURNS
        counters = list((tmp_path / "metrics").glob("counter_*.db"))

    # Any worker answering /metrics reports both workers' turns together.
    assert [answered_turns(server) for _ in range(8)] == [sent] * 8

    binary = prometheus_binary()
    if binary is None:
        pytest.skip("prometheus is not installed")
    assert (
        promql(binary, tmp_path, server.port, 'sum(chatkit_turns_total{outcome="answered"})')
        == sent
    )


def promql(binary: str, tmp_path: Path, target_port: int, query: str) -> float:
    """Run Prometheus scraping the server every second; the query's value once it has one."""
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: chatkit\n"
        "    metrics_path: /metrics\n"
        f"    authorization: {{type: Bearer, credentials: {TOKEN}}}\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n"
    )
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "prometheus.log").read_text()
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/query", params={"query": query}, timeout=5
                ).json()
            except httpx.HTTPError:
                answer = {}
            result = answer.get("data", {}).get("result", [])
            if result:
                return float(result[0]["value"][1])
            time.sleep(0.25)  # waiting for Prometheus' first scrape, bounded
        raise AssertionError(f"no answer to {query}: {(tmp_path / 'prometheus.log').read_text()}")
    finally:
        stop_process(process)
        log.close()
