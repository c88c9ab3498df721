"""The benchmark in smoke mode (small N), so `python -m bench.run` cannot rot.

Its figures are not judged here (that is the full run's job, see docs/performance.md):
only that every phase runs end to end over real HTTP and nothing fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from config.tests.nginx import nginx_binary
from config.tests.servers import BASE_DIR

# The Makefile's POSTGRES_TEST_URL default.
DEFAULT_POSTGRES_URL = "postgres://root@127.0.0.1:5432/test"


def bench_database_url(environ: Mapping[str, str]) -> str:
    """The bench's own database on the PostgreSQL server the suite was given
    (DATABASE_URL when it names one, else POSTGRES_TEST_URL, else the local default)."""
    url = next(
        (
            environ[name]
            for name in ("DATABASE_URL", "POSTGRES_TEST_URL")
            if environ.get(name, "").startswith(("postgres://", "postgresql://"))
        ),
        DEFAULT_POSTGRES_URL,
    )
    name = f"bench_todo_smoke{environ.get('TEST_DB_SUFFIX', '')}"
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "postgres://root@127.0.0.1:5432/bench_todo_smoke"),
        (
            {"DATABASE_URL": "postgres://u:pw@db.example:6543/test?sslmode=require"},
            "postgres://u:pw@db.example:6543/bench_todo_smoke?sslmode=require",
        ),
        (
            {"DATABASE_URL": "sqlite:///x", "POSTGRES_TEST_URL": "postgresql://ci@pg/test"},
            "postgresql://ci@pg/bench_todo_smoke",
        ),
        ({"TEST_DB_SUFFIX": "_gw1"}, "postgres://root@127.0.0.1:5432/bench_todo_smoke_gw1"),
    ],
    ids=["default", "database_url", "postgres_test_url", "suffix"],
)
def test_the_bench_runs_on_the_suites_postgres_server(environ, expected) -> None:
    assert bench_database_url(environ) == expected


@pytest.mark.slow
def test_bench_smoke_runs_every_phase_without_errors(tmp_path: Path) -> None:
    out = tmp_path / "results"
    database_url = bench_database_url(os.environ)
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out),
         "--database-url", database_url],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        # The bench sets up its own production-like settings; ours must not leak in.
        env={k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE",
                                                                "DATABASE_URL"}},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = json.loads((out / "results.json").read_text())
    assert {"config", "machine", "concurrency", "thread_length", "threads_list",
            "sql_queries", "targets"} <= results.keys()  # fmt: skip
    assert set(results["concurrency"]) == {"daphne", "uvicorn", "baseline"}
    for server, levels in results["concurrency"].items():
        assert [level["users"] for level in levels] == [1, 5], server
        for level in levels:
            assert level["errors"] == 0, (server, level["error_samples"])
            assert level["ok"] == level["turns"] > 0
            assert level["first_text_ms"]["p95"] is not None
            assert level["server"]["cpu_ms_per_turn"] is not None
            assert level["server"]["rss_peak_mb"] > 0
    assert [row["items"] for row in results["thread_length"]["rows"]] == [10, 100]
    assert all(row["turn_ms"]["p50"] > 0 for row in results["thread_length"]["rows"])
    assert [row["threads"] for row in results["threads_list"]["rows"]] == [10, 200]
    assert results["sql_queries"]["add_user_message"] > 0
    for server in ("daphne", "uvicorn"):
        sockets = results["sockets"][server]
        assert sockets["storm"]["failed"] == 0, sockets["storm"]["error_samples"]
        assert sockets["fanout"]["failed"] == 0, sockets["fanout"]["error_samples"]
        assert sockets["fanout"]["fanout_max_s"] is not None
    for server in ("uvicorn", "baseline"):
        assert results["openai"][server][0]["errors"] == 0, results["openai"][server]
    if nginx_binary() is None:  # skipped exactly when the proxy tests skip, and said so
        assert not results.get("nginx")
        assert "nginx: not installed, phase skipped" in done.stdout
    else:
        nginx = results["nginx"]["uvicorn+nginx"][0]
        assert nginx["errors"] == 0 and nginx["proxy_cpu_ms_per_turn"] is not None
    assert {row["users"] for row in results["ratios"]["uvicorn"]} == {1, 5}
    assert all(t["met"] in (True, False) for t in results["targets"])
    assert (out / "bench.png").stat().st_size > 10_000
    assert "turn/s" in done.stdout and ("PASS" in done.stdout or "MISS" in done.stdout)
