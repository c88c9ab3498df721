"""What a benchmark run stands on: its PostgreSQL database, a local JWKS with users
and their tokens, Django configured as the servers are, and the machine it runs on."""

from __future__ import annotations

import http.server
import json
import os
import platform
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/bench_todo"
BENCH_SUB_PREFIX = "bench-"


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


def in_process_env(label: str, *, database_url: str, port: int, work: Path) -> dict[str, str]:
    """The environment of turns run in this process (profile_turn, callgrind_turns):
    production-like settings, PostgreSQL and Redis, the offline model at full speed,
    cache and channel keys of this run's own, a JWKS issuer on `port`."""
    prefix = f"bench-{label}-{os.getpid()}"
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "BETTER_AUTH_URL": f"http://127.0.0.1:{port}",
        "DEV_JWT_KEY_PATH": str(work / "dev.pem"),
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CACHE_KEY_PREFIX": prefix,
        "CHANNELS_PREFIX": prefix,
        "CHATKIT_RATE_LIMIT": "1000000/minute",
        "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "0",
        "LOG_LEVEL": "WARNING",
    }


def configure_django(env: dict[str, str], settings_module: str) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()


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


# --- the machine ---------------------------------------------------------------------


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
