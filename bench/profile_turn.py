"""CPU cost of one chat turn through the whole Django stack, in-process, with a profile.

`python -m bench.profile_turn [--turns 200] [--profile cprofile|pyinstrument|none]`

Same production settings as `bench.run` (DEBUG off, JWT against a local JWKS, Redis,
PostgreSQL), model delay 0, one user continuing one thread. Process CPU time per turn
is printed, then the hottest functions. No HTTP server: what remains is the app's own
cost (JWT, middleware, ChatKit, agent run, store, rate limit).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.environment import (
    DEFAULT_DATABASE_URL,
    configure_django,
    create_users,
    ensure_database,
    free_port,
    in_process_env,
    jwks_server,
    reset_bench_rows,
)
from bench.loadgen import turn_body


async def one_turn(client: Any, token: str, message: str, thread_id: str | None) -> str:
    """One turn through /chatkit in this process (a new thread when `thread_id` is
    None), read to its end; the thread's id."""
    response = await client.post(
        "/chatkit", turn_body(message, thread_id), content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    content = b"".join([chunk async for chunk in response.streaming_content])
    if b"text_delta" not in content:
        raise RuntimeError(content[:300])
    if thread_id is not None:
        return thread_id
    first = json.loads(content.split(b"\n\n")[0].removeprefix(b"data: "))
    return first["thread"]["id"]


async def run_turns(token: str, turns: int, message: str) -> None:
    from django.test import AsyncClient

    client = AsyncClient()
    thread_id: str | None = None
    for _ in range(turns):
        thread_id = await one_turn(client, token, message, thread_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--message", default="hello")
    parser.add_argument("--profile", choices=("cprofile", "pyinstrument", "none"), default="none")
    parser.add_argument("--settings", default="config.settings")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--dump", type=Path, default=None, help="save cProfile stats here")
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    ensure_database(database_url)
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    port = free_port()
    env = in_process_env("profile", database_url=database_url, port=port, work=work)
    configure_django(env, args.settings)
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    reset_bench_rows(database_url)
    with jwks_server(port):
        user = create_users(1, "profile")[0]
        asyncio.run(run_turns(user.token, 5, args.message))  # warm: imports, JWKS, caches
        profiler: Any = None
        if args.profile == "cprofile":
            profiler = cProfile.Profile()
            profiler.enable()
        elif args.profile == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="disabled", interval=0.0005)
            profiler.start()
        cpu, wall = time.process_time(), time.perf_counter()
        asyncio.run(run_turns(user.token, args.turns, args.message))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if args.profile == "cprofile":
            profiler.disable()
            if args.dump:
                profiler.dump_stats(str(args.dump))
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())
        elif args.profile == "pyinstrument":
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
    print(
        f"{args.turns} turns ({args.message!r}): {cpu * 1000 / args.turns:.2f} ms CPU per turn "
        f"(this process), {wall * 1000 / args.turns:.2f} ms wall per turn"
        + (" [profiled: slower]" if profiler else "")
    )


if __name__ == "__main__":
    main()
