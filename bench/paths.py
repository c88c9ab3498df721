"""The paths production users run, measured like the offline turns: the real OpenAI
client against a fake Responses API in its own process, and nginx (TLS) in front."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.environment import BASE_DIR, BenchUser, free_port
from bench.phases import concurrency_phase
from bench.servers import running_server

OPENAI_LEVELS = {1: 10, 50: 2}
NGINX_LEVELS = {1: 10, 50: 3}
SMOKE_LEVELS = {1: 2}


@contextmanager
def fake_openai(delay_ms: int, log_dir: Path) -> Iterator[str]:
    """bench/fake_openai_server.py on a free port; yields its base URL."""
    port = free_port()
    with (log_dir / "fake-openai.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_openai_server", "--port", str(port),
             "--delay-ms", str(delay_ms)],
            cwd=BASE_DIR, stdout=log, stderr=log,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/models", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the fake OpenAI server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        from config.tests.servers import stop_process

        stop_process(process)


def openai_phase(
    servers: list[str],
    env: dict[str, str],
    users: list[BenchUser],
    levels: dict[int, int],
    delay_ms: int,
    work: Path,
) -> dict[str, Any]:
    """Each server with the real OpenAI client: one tool call, then the 13-chunk answer."""
    results: dict[str, Any] = {}
    with fake_openai(delay_ms, work) as url:
        openai_env = {**env, "OPENAI_API_KEY": "sk-bench-fake", "OPENAI_BASE_URL": url}
        with ExitStack() as stack:
            running = [stack.enter_context(running_server(k, openai_env, work)) for k in servers]
            print(f"OpenAI client path, {' and '.join(servers)} level by level", flush=True)
            results = concurrency_phase(running, users, levels, work)
    return results


class NginxProcess:
    """The running nginx of config/tests/nginx.py, with the CPU of all its processes."""

    def __init__(self, nginx: Any) -> None:
        self.nginx = nginx
        self.https_url = nginx.https_url
        self.cert_path = nginx.cert_path

    def cpu_seconds(self) -> float:
        master = psutil.Process(self.nginx.process.pid)
        total = 0.0
        for process in [master, *master.children(recursive=True)]:
            times = process.cpu_times()
            total += times.user + times.system
        return total


def nginx_phase(server: Any, users: list[BenchUser], levels: dict[int, int], work: Path) -> dict:
    """The running uvicorn behind the shipped nginx config, over TLS; nginx's CPU apart."""
    from config.tests.nginx import nginx_binary, start_nginx

    if nginx_binary() is None:
        print("nginx: not installed, phase skipped", flush=True)
        return {}
    print(f"{server.kind} behind nginx: concurrency", flush=True)
    port = int(server.url.rsplit(":", 1)[1])
    nginx = start_nginx(work / "nginx", [port], max_body_bytes=1_048_576)
    try:
        via = NginxProcess(nginx)
        measured = concurrency_phase([server], users, levels, work, via)
        return {f"{server.kind}+nginx": measured[server.kind]}
    finally:
        nginx.stop()
