"""Benchmark of the ChatKit backend over real HTTP against PostgreSQL.

`python -m bench.run [--smoke] [--out bench/results]`

Starts the app under daphne and under uvicorn (one worker each, production settings:
DEBUG off, Better Auth JWTs checked against a local JWKS, Redis for cache and rate
limits) and the FastAPI baseline, then measures: N concurrent streaming users, one more
turn in threads of growing length, `items.list` and `threads.list` against length and
count, and SQL queries per request. Writes `results.json` and `bench.png` to --out and
prints tables. Everything runs on loopback; every loop is bounded; it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import psycopg

from bench import stats, targets
from bench.loadgen import raise_open_file_limit, turn_body

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/bench_todo"
BENCH_SUB_PREFIX = "bench-"

FULL_LEVELS = {1: 20, 50: 10, 200: 3, 500: 1}  # users -> turns per user
SMOKE_LEVELS = {1: 3, 5: 2}
FULL_SOCKETS = {"storm": 500, "open": 2000}  # reconnect storm; open sockets of one user
SMOKE_SOCKETS = {"storm": 20, "open": 50}
FULL_LENGTHS = (10, 100, 1000, 5000)
SMOKE_LENGTHS = (10, 100)
FULL_THREAD_COUNTS = (10, 1000, 10000)
SMOKE_THREAD_COUNTS = (10, 200)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- database ----------------------------------------------------------------------


def ensure_database(url: str) -> None:
    """Create the benchmark database when it is missing (never drops anything)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def reset_bench_rows(url: str) -> None:
    """Remove what earlier runs left: the bench users and everything they own.

    Through the ORM, so rows of every table that points at them (threads, items,
    todos, attachments, tool effects, ...) go too, whatever the apps add later."""
    from accounts.models import User

    User.objects.filter(better_auth_id__startswith=BENCH_SUB_PREFIX).delete()


# --- auth: a local JWKS, users and their tokens --------------------------------------


@contextmanager
def jwks_server(port: int) -> Iterator[str]:
    """Serve the dev key's public JWKS the way Better Auth does, on loopback."""
    from accounts import dev_issuer

    document = json.dumps(dev_issuer.jwks()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/api/auth/jwks" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


@dataclass
class BenchUser:
    sub: str
    email: str
    token: str
    pk: int = 0


def create_users(count: int, label: str) -> list[BenchUser]:
    """Users created up front (as their first sign-in would) with tokens for them."""
    from accounts import dev_issuer
    from accounts.models import User

    users = []
    for n in range(count):
        email = f"{label}{n}@bench.example"
        sub = f"{BENCH_SUB_PREFIX}{label}-{n}"
        token = dev_issuer.issue_token(email, name=f"{label}{n}", ttl=4 * 3600, sub=sub)
        users.append(BenchUser(sub=sub, email=email, token=token))
    rows = [
        User(username=f"ba_{u.sub}", better_auth_id=u.sub, email=u.email, name=f"{label}{n}")
        for n, u in enumerate(users)
    ]
    for row in rows:
        row.set_unusable_password()
    User.objects.bulk_create(rows)
    ids = dict(
        User.objects.filter(better_auth_id__in=[u.sub for u in users]).values_list(
            "better_auth_id", "pk"
        )
    )
    for user in users:
        user.pk = ids[user.sub]
    return users


# --- server processes ----------------------------------------------------------------


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


# --- phases --------------------------------------------------------------------------


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


def machine_info() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_gib = psutil.virtual_memory().total / 2**30
    cpus = os.cpu_count() or 0
    return {
        "cpu_model": model,
        "nproc": cpus,
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "summary": f"{cpus} x {model}, {memory_gib:.0f} GiB, Python {platform.python_version()}",
    }


# --- main ----------------------------------------------------------------------------


def configure_django(env: dict[str, str], settings_module: str) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="small N, a few seconds")
    parser.add_argument("--out", type=Path, default=BASE_DIR / "bench" / "results")
    parser.add_argument("--servers", default="daphne,uvicorn,baseline")
    parser.add_argument("--levels", default=None, help="users:turns pairs, e.g. 1:20,50:4")
    parser.add_argument(
        "--settings",
        default="config.settings",
        help="settings module for the servers (to measure a candidate fix)",
    )
    parser.add_argument(
        "--private-pg",
        action="store_true",
        help="run against a throwaway PostgreSQL (initdb in a temp dir, free port) instead of "
        "--database-url, so hundreds of connections never crowd a shared server",
    )
    parser.add_argument("--skip-length", action="store_true", help="no thread-length phase")
    parser.add_argument("--skip-sockets", action="store_true", help="no websocket phase")
    parser.add_argument("--skip-openai", action="store_true", help="no OpenAI client phase")
    parser.add_argument("--skip-nginx", action="store_true", help="no phase through nginx")
    parser.add_argument("--delay-ms", type=int, default=20)
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        help="record a py-spy profile (collapsed stacks) of each server's load phase here",
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args(argv)
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    levels = SMOKE_LEVELS if args.smoke else FULL_LEVELS
    if args.levels:
        pairs = (pair.split(":") for pair in args.levels.split(","))
        levels = {int(users): int(turns) for users, turns in pairs}
    args.socket_sizes = SMOKE_SOCKETS if args.smoke else FULL_SOCKETS
    lengths = SMOKE_LENGTHS if args.smoke else FULL_LENGTHS
    counts = SMOKE_THREAD_COUNTS if args.smoke else FULL_THREAD_COUNTS
    repeats = 3 if args.smoke else 10

    # A plain `kill` still stops our servers and load generator (finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    raise_open_file_limit()  # inherited by the servers we start
    with private_postgres(args.private_pg) as private_url:
        if private_url:
            args.database_url = private_url
        return run_bench(args, servers, levels, lengths, counts, repeats)


@contextmanager
def private_postgres(wanted: bool) -> Iterator[str | None]:
    """A throwaway PostgreSQL cluster for the run (see config/tests/pgcluster.py)."""
    if not wanted:
        yield None
        return
    import shutil

    from config.tests.pgcluster import make_cluster

    cluster = make_cluster()
    cluster.start()
    try:
        yield cluster.url("bench_todo")
    finally:
        cluster.stop("immediate")
        shutil.rmtree(cluster.root, ignore_errors=True)


def run_bench(
    args: argparse.Namespace,
    servers: list[str],
    levels: dict[int, int],
    lengths: tuple[int, ...],
    counts: tuple[int, ...],
    repeats: int,
) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    ensure_database(args.database_url)
    prefix = f"bench-{os.getpid()}-{secrets.token_hex(3)}"
    jwks_port = free_port()
    env = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "BETTER_AUTH_URL": f"http://127.0.0.1:{jwks_port}",
        "DEV_JWT_KEY_PATH": str(work / "dev_ed25519.pem"),
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CACHE_KEY_PREFIX": prefix,
        "CHANNELS_PREFIX": prefix,
        "CHATKIT_RATE_LIMIT": "1000000/minute",
        "CHATKIT_OFFLINE_TOKEN_DELAY_MS": str(args.delay_ms),
        # As shipped (the test suite's default is off); BENCH_ASYNC_DATABASE=0 for an A/B.
        "CHATKIT_ASYNC_DATABASE": os.environ.get("BENCH_ASYNC_DATABASE", "1"),
        "LOG_LEVEL": "WARNING",
        # Our server's work, not the Agents SDK exporting traces (to OpenAI, with a fake key).
        "CHATKIT_TRACING": "0",
    }
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BETTER_AUTH_JWKS_URL", "TEST_DB_SUFFIX"):
        os.environ.pop(name, None)
    configure_django(env, args.settings)
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    # Production settings serve collected static files (and refuse to start without).
    call_command("collectstatic", "--noinput", verbosity=0)
    reset_bench_rows(args.database_url)
    server_env = {**os.environ, **env}

    results: dict[str, Any] = {
        "config": {
            "smoke": args.smoke,
            "token_delay_ms": args.delay_ms,
            "levels": levels,
            "servers": servers,
            "database": "PostgreSQL "
            + psycopg.connect(args.database_url).info.parameter_status("server_version"),
            "redis": True,
            "private_postgres": args.private_pg,
            "settings": args.settings,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        "machine": machine_info(),
        "concurrency": {},
        "sockets": {},
    }
    from bench import paths

    with jwks_server(jwks_port):
        users = create_users(max(max(levels), args.socket_sizes["storm"]), "load")
        with ExitStack() as stack:
            running = [stack.enter_context(running_server(k, server_env, work)) for k in servers]
            print(f"concurrency, {' and '.join(servers)} level by level", flush=True)
            with ExitStack() as spies:
                for server in running:
                    spies.enter_context(profiled(server, args.py_spy))
                results["concurrency"] = concurrency_phase(running, users, levels, work)
            # What is measured so far survives a run cut short.
            (args.out / "partial.json").write_text(json.dumps(results, indent=2, default=str))
            for server in running:
                if server.kind != "baseline" and not args.skip_sockets:
                    print(f"{server.kind}: sockets", flush=True)
                    results["sockets"][server.kind] = sockets_phase(
                        server, users, args.socket_sizes, work
                    )
                if server.kind == "uvicorn" and not args.skip_nginx:
                    nginx_levels = paths.SMOKE_LEVELS if args.smoke else paths.NGINX_LEVELS
                    results["nginx"] = paths.nginx_phase(server, users, nginx_levels, work)
                (args.out / "partial.json").write_text(json.dumps(results, indent=2, default=str))

        if not args.skip_openai:
            kinds = [k for k in ("uvicorn", "baseline") if k in servers]
            openai_levels = paths.SMOKE_LEVELS if args.smoke else paths.OPENAI_LEVELS
            results["openai"] = paths.openai_phase(
                kinds, server_env, users, openai_levels, args.delay_ms, work
            )
        length_server = next((k for k in ("uvicorn", "daphne") if k in servers), None)
        if length_server and not args.skip_length:
            print(f"{length_server}: thread length (delay 0)", flush=True)
            zero_delay = {**server_env, "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "0"}
            with running_server(length_server, zero_delay, work) as server:
                growth, many = length_phase(server, args.database_url, lengths, counts, repeats)
            results["thread_length"], results["threads_list"] = growth, many
            results["sql_queries"] = count_queries()
    results["ratios"] = targets.ratios(results["concurrency"])
    results["targets"] = targets.evaluate(results)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    stats.chart(results, args.out / "bench.png")
    print()
    print(stats.concurrency_table(results))
    print()
    print(stats.length_table(results))
    print()
    print("ours / the FastAPI + in-memory baseline, same run:")
    print(targets.ratios_table(results["ratios"]))
    if results.get("openai"):
        print()
        print("OpenAI client path (fake Responses API in its own process):")
        print(stats.concurrency_table({"concurrency": results["openai"]}))
    if results.get("nginx"):
        print()
        print("through nginx (TLS) in front of uvicorn:")
        print(stats.concurrency_table({"concurrency": results["nginx"]}))
        for level in next(iter(results["nginx"].values()), []):
            proxy = level.get("proxy_cpu_ms_per_turn")
            if proxy is not None:
                print(f"  nginx CPU per turn at N={level['users']}: {proxy:.1f} ms")
    print()
    print("targets (issue 12):")
    print(targets.targets_table(results["targets"]))
    print(f"\nwrote {args.out / 'results.json'} and {args.out / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
