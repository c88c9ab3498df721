"""The servers under test as processes: started as the test suite starts them, with
their CPU time and memory read from outside, and py-spy on them when asked."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.environment import free_port


def server_command(kind: str, port: int) -> list[str]:
    """What we ship (config/tests/servers.py: daphne with a raised listen backlog)."""
    from config.tests.servers import server_command as shipped

    if kind == "baseline":
        return [*shipped("uvicorn", port, app="bench.baseline_fastapi:app"), "--log-level",
                "warning"]  # fmt: skip
    command = shipped(kind, port)
    return command + (["--log-level", "warning"] if kind == "uvicorn" else [])


@dataclass
class Server:
    kind: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def rss_mb(self) -> float:
        return self.ps.memory_info().rss / 2**20


@contextmanager
def running_server(kind: str, env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    """One server, started and stopped as the tests start theirs (config/tests/servers.py)."""
    from config.tests.servers import start_server

    port = free_port()
    started = start_server(
        env=env, log_dir=log_dir, server=kind, port=port, command=server_command(kind, port),
        ready_timeout=60,
    )  # fmt: skip
    try:
        yield Server(kind=kind, url=started.url, process=started.process,
                     log_path=started.log_path)  # fmt: skip
    finally:
        started.stop()


class RssSampler:
    """Peak RSS of the server while a load runs (sampled every 50 ms)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = server.rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.peak = max(self.peak, self.server.rss_mb())
            except psutil.Error:
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def profiled(server: Server, out_dir: Path | None) -> Iterator[None]:
    """Sample the server with py-spy while the block runs (when asked to)."""
    if out_dir is None:
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{server.kind}.txt"
    cmd = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(server.process.pid),
        "--format",
        "raw",
    ]
    cmd += ["--output", str(out), "--rate", "200", "--nonblocking"]
    spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
        spy.wait(timeout=60)
