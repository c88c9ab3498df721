"""Live sockets at scale: a reconnect storm, then many open sockets and one change.

Runs in its own process (its CPU is not the server's) and prints one JSON document.

- storm: `storm` sockets of `storm` different users connect at the same moment (what
  every page does after a deploy restarts the workers); counts failed handshakes and
  sockets closed by the server.
- fan-out: `open` sockets of one user are connected (in batches, as pages open), then
  one todo change is made through the REST API; measures how long until every socket
  has the event, and how many never got it or were closed.

`python -m bench.sockets SPEC.json`: SPEC holds url, storm_secrets (one client secret
per storm user), fanout_secret, fanout_token (a JWT for the REST call), storm, open.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx
import psutil
import websockets

from bench.loadgen import raise_open_file_limit

CONNECT_TIMEOUT_S = 60.0
EVENT_TIMEOUT_S = 30.0


async def _connect(url: str, origin: str) -> Any:
    return await websockets.connect(
        url, origin=origin, open_timeout=CONNECT_TIMEOUT_S, ping_interval=None, max_queue=None
    )


async def storm(base: str, secrets: list[str]) -> dict[str, Any]:
    """All sockets at once; then a ping on each proves it is alive and served."""
    ws_base = base.replace("http", "ws", 1)
    started = time.perf_counter()
    results = await asyncio.gather(
        *(_connect(f"{ws_base}/ws/todos/?token={s}", base) for s in secrets),
        return_exceptions=True,
    )
    connected_s = time.perf_counter() - started
    sockets = [r for r in results if not isinstance(r, BaseException)]
    errors = [f"{type(r).__name__}: {r}"[:160] for r in results if isinstance(r, BaseException)]

    async def ping(socket: Any) -> str | None:
        try:
            await socket.send(json.dumps({"type": "ping"}))
            reply = json.loads(await asyncio.wait_for(socket.recv(), EVENT_TIMEOUT_S))
            return None if reply.get("type") == "pong" else f"unexpected {reply}"
        except Exception as exc:  # noqa: BLE001 - every failure is counted, none is fatal
            return f"{type(exc).__name__}: {exc}"[:160]

    pings = await asyncio.gather(*(ping(s) for s in sockets))
    errors += [p for p in pings if p]
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return {
        "sockets": len(secrets),
        "failed": len(errors),
        "connect_all_s": connected_s,
        "error_samples": sorted(set(errors))[:5],
    }


async def fanout(
    base: str,
    secret: str,
    token: str,
    count: int,
    *,
    server_pid: int,
    changes: int = 3,
    batch: int = 100,
) -> dict[str, Any]:
    """`count` sockets of one user, then `changes` changes one after the other; for each,
    the time until every socket has it."""
    ws_url = base.replace("http", "ws", 1) + f"/ws/todos/?token={secret}"
    sockets: list[Any] = []
    dead: set[Any] = set()
    errors: list[str] = []
    started = time.perf_counter()
    for offset in range(0, count, batch):
        n = min(batch, count - offset)
        results = await asyncio.gather(
            *(_connect(ws_url, base) for _ in range(n)), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                errors.append(f"connect {type(result).__name__}: {result}"[:160])
            else:
                sockets.append(result)
    connected_s = time.perf_counter() - started

    async def next_event(socket: Any) -> float | str:
        try:
            message = json.loads(await asyncio.wait_for(socket.recv(), EVENT_TIMEOUT_S))
            if message.get("type") != "todo.created":
                return f"unexpected {message}"[:160]
            return time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - counted
            return f"{type(exc).__name__}: {exc}"[:160]

    rounds = []
    server = psutil.Process(server_pid)
    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(changes):
            live = [s for s in sockets if s not in dead]
            waiters = [asyncio.ensure_future(next_event(s)) for s in live]
            cpu = server.cpu_times()
            sent_at = time.perf_counter()
            response = await client.post(
                f"{base}/api/todos/",
                json={"title": f"fan-out {n}"},
                headers={"Authorization": f"Bearer {token}"},
            )
            request_s = time.perf_counter() - sent_at
            if response.status_code != 201:
                errors.append(f"change failed: http {response.status_code}")
            arrivals = await asyncio.gather(*waiters)
            cpu_after = server.cpu_times()
            times = sorted(a - sent_at for a in arrivals if isinstance(a, float))
            for socket, arrival in zip(live, arrivals, strict=True):
                if isinstance(arrival, str):
                    errors.append(arrival)
                    dead.add(socket)
            rounds.append(
                {
                    "request_s": request_s,
                    "first_s": times[0] if times else None,
                    "p50_s": times[len(times) // 2] if times else None,
                    "max_s": times[-1] if times else None,
                    "reached": len(times),
                    # The server's CPU for the change and its fan-out (load-independent).
                    "server_cpu_s": (cpu_after.user + cpu_after.system) - (cpu.user + cpu.system),
                }
            )
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    worst = [r["max_s"] for r in rounds if r["max_s"] is not None]
    return {
        "sockets": count,
        "connected": len(sockets),
        "connect_all_s": connected_s,
        "failed": len(errors),
        "rounds": rounds,
        "fanout_max_s": max(worst) if worst else None,
        "error_samples": sorted(set(errors))[:5],
    }


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    raise_open_file_limit()
    result: dict[str, Any] = {}
    if spec.get("storm"):
        result["storm"] = await storm(spec["url"], spec["storm_secrets"][: spec["storm"]])
    if spec.get("open"):
        result["fanout"] = await fanout(
            spec["url"],
            spec["fanout_secret"],
            spec["fanout_token"],
            spec["open"],
            server_pid=spec["server_pid"],
        )
    return result


def main() -> None:
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    json.dump(asyncio.run(run(spec)), sys.stdout)


if __name__ == "__main__":
    main()
