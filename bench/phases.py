"""The benchmark's measurements: concurrent turns (from a separate load-generator
process), websockets, thread length and count, and SQL statements per request."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import stats
from bench.environment import BASE_DIR, BenchUser, create_users
from bench.loadgen import turn_body
from bench.servers import RssSampler, Server


def run_load(
    server: Server,
    users: list[BenchUser],
    turns: int,
    work: Path,
    *,
    ramp_s: float,
    via: Any = None,
) -> dict[str, Any]:
    """One concurrency level, measured from a separate load-generator process; with
    `via` (an nginx in front), requests go through it and its CPU is counted apart."""
    deadline_s = 240.0
    spec = {
        "url": via.https_url if via else server.url,
        "verify": str(via.cert_path) if via else None,
        "tokens": [u.token for u in users],
        "users": len(users),
        "turns": turns,
        "message": "hello",
        "timeout_s": 120.0,
        "ramp_s": ramp_s,
        "deadline_s": deadline_s,
    }
    spec_path = work / "spec.json"
    spec_path.write_text(json.dumps(spec))
    rss_before = server.rss_mb()
    cpu_before = server.cpu_seconds()
    proxy_before = via.cpu_seconds() if via else 0.0
    with RssSampler(server) as sampler:
        done = subprocess.run(
            [sys.executable, "-m", "bench.loadgen", str(spec_path)],
            cwd=BASE_DIR,
            capture_output=True,
            timeout=deadline_s + 180,
            check=True,
        )
    cpu_used = server.cpu_seconds() - cpu_before
    proxy_used = via.cpu_seconds() - proxy_before if via else None
    raw = json.loads(done.stdout)
    summary = stats.summarize_turns(raw["turns"], raw["elapsed_s"])
    summary["users"] = len(users)
    summary["server"] = {
        "cpu_s": cpu_used,
        "cpu_ms_per_turn": cpu_used * 1000 / summary["ok"] if summary["ok"] else None,
        "rss_before_mb": rss_before,
        "rss_peak_mb": sampler.peak,
        "rss_growth_mb": sampler.peak - rss_before,
        "rss_after_mb": server.rss_mb(),
    }
    if proxy_used is not None:
        summary["proxy_cpu_ms_per_turn"] = (
            proxy_used * 1000 / summary["ok"] if summary["ok"] else None
        )
    return summary


def concurrency_phase(
    servers: list[Server],
    users: list[BenchUser],
    levels: dict[int, int],
    work: Path,
    via: Any = None,
) -> dict[str, list[dict[str, Any]]]:
    """Each level on every server in turn, the order reversed from one level to the next
    (A B, B A, ...): this machine's speed drifts by ±15 % over minutes, and servers
    measured one after the other took that drift into their ratios."""
    for server in servers:
        # Warm-up: imports, caches, JWKS fetch, connection set-up are not what we measure.
        run_load(server, users[:2], 2, work, ramp_s=0, via=via)
    results: dict[str, list[dict[str, Any]]] = {server.kind: [] for server in servers}
    for index, (count, turns) in enumerate(levels.items()):
        ramp_s = 0.0 if count == 1 else 0.5
        for server in servers if index % 2 == 0 else servers[::-1]:
            summary = run_load(server, users[:count], turns, work, ramp_s=ramp_s, via=via)
            print(
                f"  {server.kind} N={count}: {summary['ok']}/{summary['turns']} ok, "
                f"p95 text {summary['first_text_ms']['p95']} ms, "
                f"cpu/turn {summary['server']['cpu_ms_per_turn']} ms",
                flush=True,
            )
            results[server.kind].append(summary)
    return results


def sockets_phase(
    server: Server, users: list[BenchUser], sizes: dict[str, int], work: Path
) -> dict[str, Any]:
    """A reconnect storm and one change fanned out to many open sockets (bench/sockets.py)."""
    from accounts.client_secrets import mint_client_secret
    from accounts.models import User

    rows = {u.pk: u for u in User.objects.filter(pk__in=[b.pk for b in users])}
    secrets_ = [mint_client_secret(user=rows[b.pk])[0] for b in users[: sizes["storm"]]]
    fan_user = create_users(1, f"fanout-{server.kind}-{os.getpid()}-")[0]
    spec = {
        "url": server.url,
        "storm_secrets": secrets_,
        "storm": sizes["storm"],
        "open": sizes["open"],
        "fanout_secret": mint_client_secret(user=User.objects.get(pk=fan_user.pk))[0],
        "fanout_token": fan_user.token,
        "server_pid": server.process.pid,
    }
    spec_path = work / "sockets.json"
    spec_path.write_text(json.dumps(spec))
    rss_before = server.rss_mb()
    with RssSampler(server) as sampler:
        done = subprocess.run(
            [sys.executable, "-m", "bench.sockets", str(spec_path)],
            cwd=BASE_DIR,
            capture_output=True,
            timeout=600,
            check=True,
        )
    result = json.loads(done.stdout)
    result["rss_growth_mb"] = sampler.peak - rss_before
    result["kib_per_socket"] = (sampler.peak - rss_before) * 1024 / max(1, sizes["open"])
    storm, fan = result["storm"], result["fanout"]
    print(
        f"  {server.kind} sockets: storm {storm['failed']}/{storm['sockets']} failed "
        f"({storm['connect_all_s']:.2f} s); {fan['connected']} open, {fan['failed']} failed, "
        f"fan-out max {fan['fanout_max_s']} s",
        flush=True,
    )
    return result


def timed_turn(client: httpx.Client, url: str, token: str, thread_id: str) -> float:
    body = json.dumps(turn_body("hello", thread_id))
    start = time.perf_counter()
    with client.stream(
        "POST", f"{url}/chatkit", content=body, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        response.raise_for_status()
        payload = b"".join(response.iter_raw())
    elapsed = (time.perf_counter() - start) * 1000
    if b"assistant_message.content_part.text_delta" not in payload or b'"type":"error"' in payload:
        raise RuntimeError(f"turn failed: {payload[-300:]!r}")
    return elapsed


def timed_request(client: httpx.Client, url: str, token: str, body: dict[str, Any]) -> float:
    start = time.perf_counter()
    response = client.post(
        f"{url}/chatkit", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    elapsed = (time.perf_counter() - start) * 1000
    response.raise_for_status()
    return elapsed


def length_phase(
    server: Server, db_url: str, lengths: tuple[int, ...], counts: tuple[int, ...], repeats: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One more turn and items.list against thread length; threads.list against count."""
    from bench.seed import seed_thread, seed_threads

    rows = []
    owner = create_users(1, "long")[0]
    with psycopg.connect(db_url) as conn, httpx.Client(timeout=60) as client:
        for length in lengths:
            thread_id = seed_thread(conn, owner_id=owner.pk, items=length, title=f"{length} items")
            timed_turn(client, server.url, owner.token, thread_id)  # warm
            turns = [timed_turn(client, server.url, owner.token, thread_id) for _ in range(repeats)]
            list_body = {"type": "items.list", "params": {"thread_id": thread_id, "limit": 20}}
            lists = [
                timed_request(client, server.url, owner.token, list_body)
                for _ in range(repeats * 2)
            ]
            rows.append(
                {
                    "items": length,
                    "turn_ms": stats.distribution(turns),
                    "items_list_ms": stats.distribution(lists),
                }
            )
            print(f"  thread of {length} items: turn p50 {rows[-1]['turn_ms']['p50']:.1f} ms")
        thread_rows = []
        for count in counts:
            many = create_users(1, f"many{count}-")[0]
            seed_threads(conn, owner_id=many.pk, count=count)
            body = {"type": "threads.list", "params": {"limit": 20}}
            timed_request(client, server.url, many.token, body)  # warm
            times = [
                timed_request(client, server.url, many.token, body) for _ in range(repeats * 2)
            ]
            thread_rows.append({"threads": count, "ms": stats.distribution(times)})
            print(f"  {count} threads: threads.list p50 {thread_rows[-1]['ms']['p50']:.1f} ms")
    return {"server": server.kind, "rows": rows}, {"server": server.kind, "rows": thread_rows}


def count_queries() -> dict[str, int]:
    """SQL statements per request, through the whole Django stack in-process."""
    from django.db import connections
    from django.db.backends.signals import connection_created
    from django.test import AsyncClient

    counter = {"n": 0}

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        counter["n"] += 1
        return execute(sql, params, many, context)

    def install(sender: Any, connection: Any, **kwargs: Any) -> None:
        if wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(wrapper)

    connection_created.connect(install)
    for conn in connections.all():
        install(None, conn)
    user = create_users(1, "sql")[0]
    headers = {"Authorization": f"Bearer {user.token}"}

    from config import pg

    async def request(body: dict[str, Any]) -> tuple[int, bytes]:
        client = AsyncClient()
        before = counter["n"] + pg.statements  # the ORM's and the async store's
        response = await client.post(
            "/chatkit", body, content_type="application/json", headers=headers
        )
        if response.streaming:
            content = b"".join([chunk async for chunk in response.streaming_content])
        else:
            content = response.content
        return counter["n"] + pg.statements - before, content

    async def measure() -> dict[str, int]:
        counts: dict[str, int] = {}
        counts["threads.create"], content = await request(turn_body("hello", None))
        first_event = json.loads(content.split(b"\n\n")[0].removeprefix(b"data: "))
        if first_event.get("type") != "thread.created":
            raise RuntimeError(f"threads.create failed in-process: {content[:500]!r}")
        thread_id = first_event["thread"]["id"]
        counts["add_user_message"], _ = await request(turn_body("hello", thread_id))
        counts["add_user_message_tool"], _ = await request(turn_body("add buy milk", thread_id))
        counts["items.list"], _ = await request(
            {"type": "items.list", "params": {"thread_id": thread_id, "limit": 20}}
        )
        counts["threads.list"], _ = await request({"type": "threads.list", "params": {"limit": 20}})
        return counts

    try:
        return asyncio.run(measure())
    finally:
        connection_created.disconnect(install)
