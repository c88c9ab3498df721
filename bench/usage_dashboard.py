"""The staff usage dashboard's queries at a million usage rows, on PostgreSQL.

`python -m bench.usage_dashboard [--rows 1000000] [--database-url postgres://…/bench_usage]`

Loads `--rows` TurnUsage rows (COPY; 60 days, 2,000 users, 100,000 threads, each
thread's turns on one day) into their
own database (created when missing; its usage rows are replaced) and their daily
rollup (one row per user and day, which turns keep as they are written), then times each
query /admin/usage/ runs (the last 30 days, all users and one user) and prints the
median and worst of a few runs. Figures: docs/performance.md, "Usage dashboard".
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.environment import ensure_database  # noqa: E402

USERS = 2000
THREADS = 100_000
DAYS = 60
OUTCOMES = ["answered"] * 90 + ["failed"] * 3 + ["stopped"] * 5 + ["refused"] * 2


def load(rows: int) -> int:
    """Replace the usage rows with `rows` synthetic ones; returns the first bench user's id."""
    from django.db import connection

    from accounts.models import User
    from usage.models import TurnUsage, UsageDay, UsageThreadDay
    from usage.rollup import rebuild_days, rebuild_thread_days

    users = list(
        User.objects.filter(username__startswith="usage-bench-").values_list("pk", flat=True)
    )
    if len(users) < USERS:
        User.objects.bulk_create(
            User(username=f"usage-bench-{n}", email=f"usage-bench-{n}@example.com")
            for n in range(len(users), USERS)
        )
        users = list(
            User.objects.filter(username__startswith="usage-bench-").values_list("pk", flat=True)
        )
    rng = random.Random(21)
    now = datetime.now(UTC)
    table = TurnUsage._meta.db_table
    columns = (
        "user_id, thread_id, model, requests, input_tokens, cached_input_tokens, "
               "output_tokens, reasoning_tokens, estimated, tool_calls, first_token_ms, "
               "total_ms, outcome, error_kind, cost, created_at")  # fmt: skip
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        raw = cursor.connection  # psycopg's connection: COPY
        with raw.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for _ in range(rows):
                outcome = rng.choice(OUTCOMES)
                thread = rng.randrange(THREADS)
                # A conversation lives on one day: its turns fall within it.
                day_ago = thread % DAYS
                tokens_in, tokens_out = rng.randint(800, 6000), rng.randint(10, 400)
                first = None if outcome == "refused" else rng.randint(150, 2500)
                copy.write_row(
                    (
                        rng.choice(users),
                        f"thr_bench_{thread}",
                        "gpt-4.1-mini",
                        2,
                        tokens_in,
                        tokens_in // 2,
                        tokens_out,
                        0,
                        False,
                        1,
                        first,
                        (first or 0) + rng.randint(200, 4000),
                        outcome,
                        "timeout" if outcome == "failed" else "",
                        (tokens_in * 0.4 + tokens_out * 1.6) / 1e6,
                        now - timedelta(days=day_ago, seconds=rng.uniform(0, 86400)),
                    )
                )
    with connection.cursor() as cursor:  # outside a transaction: VACUUM sets the visibility map
        cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"loaded {rows:,} rows in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    days = rebuild_days()  # the daily rollups the turns keep as they are written
    thread_days = rebuild_thread_days()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {UsageDay._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {UsageThreadDay._meta.db_table}")
    print(
        f"rolled up into {days:,} user-days and {thread_days:,} thread-days "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return users[0]


def timed(label: str, function, repeats: int) -> None:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    print(f"  {label:<34} median {statistics.median(times):8.1f} ms   worst {max(times):8.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_USAGE_DATABASE_URL", "postgres://root@127.0.0.1:5432/bench_usage"
        ),
    )
    parser.add_argument("--skip-load", action="store_true", help="time the rows already there")
    args = parser.parse_args(argv)
    ensure_database(args.database_url)
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "DJANGO_DEBUG": "1",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from usage import selectors

    call_command("migrate", "--noinput", verbosity=0)
    if args.skip_load:
        user_id = User.objects.filter(username="usage-bench-0").values_list("pk", flat=True).get()
    else:
        user_id = load(args.rows)
    end = date.today()
    start = end - timedelta(days=29)
    print(f"dashboard queries over {args.rows:,} rows, the last 30 days ({args.repeats} runs):")
    for who, uid in (("all users", None), ("one user", user_id)):
        scope = {"start": start, "end": end, "user_id": uid}
        timed(f"per day, {who}", lambda s=scope: selectors.usage_by_day(**s), args.repeats)
        timed(f"top users, {who}", lambda s=scope: selectors.top_users(**s), args.repeats)
        timed(f"top threads, {who}", lambda s=scope: selectors.top_threads(**s), args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
