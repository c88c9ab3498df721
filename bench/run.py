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
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg

from bench import paths, stats, targets
from bench.environment import (
    BASE_DIR,
    DEFAULT_DATABASE_URL,
    configure_django,
    create_users,
    ensure_database,
    free_port,
    jwks_server,
    machine_info,
    private_postgres,
    reset_bench_rows,
)
from bench.loadgen import raise_open_file_limit
from bench.phases import concurrency_phase, count_queries, length_phase, sockets_phase
from bench.servers import profiled, running_server

FULL_LEVELS = {1: 20, 50: 10, 200: 3, 500: 1}  # users -> turns per user
SMOKE_LEVELS = {1: 3, 5: 2}
FULL_SOCKETS = {"storm": 500, "open": 2000}  # reconnect storm; open sockets of one user
SMOKE_SOCKETS = {"storm": 20, "open": 50}
FULL_LENGTHS = (10, 100, 1000, 5000)
SMOKE_LENGTHS = (10, 100)
FULL_THREAD_COUNTS = (10, 1000, 10000)
SMOKE_THREAD_COUNTS = (10, 200)


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
